package dev.bunker.clone;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.LocalSocket;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.PgTools;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TakeBackup;
import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A scrubbed development copy of a PostgreSQL backup: restored section by section into a private new database (no one but
 * its creator may connect), the scrub file's columns rewritten and verified after the data and before indexes and
 * constraints are built (so the foreign keys, validated last, prove the joins still match), then renamed into place.
 * Any failure drops the private database; an existing target is replaced only when asked, and only at the very end.
 */
public final class CloneDatabase {
    /** What the clone did: {@code seconds} per phase in order; {@code columns} empty for a check. */
    public record Result(Manifest manifest, String target, ScrubPlan plan, List<ScrubDatabase.ColumnResult> columns,
                         Map<String, Double> seconds, String store, boolean replaced) {
        /** The phases' times for people: "download 0.2 s, plan 0.1 s, ...". */
        public String timings() {
            StringBuilder out = new StringBuilder();
            seconds.forEach((phase, s) -> out.append(out.isEmpty() ? "" : ", ").append(String.format("%s %.1f s", phase, s)));
            return out.toString();
        }
    }

    private final RestoreBackup restore;
    private final Path pgBin;
    private final Clock clock;
    private final List<String> readers;
    private final boolean streamed;
    private final SecureRandom random = new SecureRandom();

    /** {@code pgBin}: backups.pg-bin (null: the usual places). */
    public CloneDatabase(RestoreBackup restore, Path pgBin, Clock clock) {
        this(restore, pgBin, clock, List.of(), true);
    }

    private CloneDatabase(RestoreBackup restore, Path pgBin, Clock clock, List<String> readers, boolean streamed) {
        this.restore = restore;
        this.pgBin = pgBin;
        this.clock = clock;
        this.readers = readers;
        this.streamed = streamed;
    }

    /**
     * Clones that grant {@code roles} the use of every schema, table, sequence and function once scrubbed, as the last
     * step before the clone takes the target's name. The target's user, which owns the clone, can then be a role no
     * person logs in as: people get the scrubbed data only, never the private database while it holds unscrubbed rows.
     */
    public CloneDatabase grantingTo(List<String> roles) {
        return new CloneDatabase(restore, pgBin, clock, List.copyOf(roles), streamed);
    }

    /** Clones that always scrub inside the database after the load, the way taken when a streamed scrub cannot be (tests). */
    CloneDatabase scrubbingInDatabase() {
        return new CloneDatabase(restore, pgBin, clock, readers, false);
    }

    /**
     * Clones {@code m} into {@code targetUrl} (or with {@code checkOnly} only reads the dump's schema and reports the coverage);
     * {@code progress}: the download's transient line, {@code phases}: one line per phase.
     */
    public Result run(Manifest m, String targetUrl, ScrubFile scrub, List<String> identities, boolean replace, boolean checkOnly,
                      Consumer<String> progress, Consumer<String> phases) throws IOException {
        return run(m, targetUrl, null, scrub, identities, replace, checkOnly, progress, phases);
    }

    /** As above, with the target user's {@code password} when the URL has none (null: PGPASSWORD, if set). */
    public Result run(Manifest m, String targetUrl, String password, ScrubFile scrub, List<String> identities, boolean replace, boolean checkOnly,
                      Consumer<String> progress, Consumer<String> phases) throws IOException {
        if (m.isMariaDb()) {
            throw new CloneException("backup " + m.id() + " is a MariaDB dump; clones are PostgreSQL-only for now", true);
        }
        if (m.isBase()) throw new CloneException("backup " + m.id() + " is a base backup; a clone starts from a dump (--backup of kind dump)", true);
        Conninfo target = target(targetUrl, password);
        if (List.of("postgres", "template0", "template1").contains(target.database())) {
            throw new CloneException("--target names the database " + target.database() + "; name the clone's own database, e.g. .../app_dev", true);
        }
        byte[] key = scrub.hashKey(randomBytes(32)); // a bad key file is refused before anything is downloaded
        Conninfo admin = admin(target);
        int major;
        String socketFolders;
        boolean exists;
        try (Connection c = TakeBackup.connect(admin, "the clone target's server", "check --target (postgresql://USER@HOST:PORT/DB; password in PGPASSWORD)");
             Statement s = c.createStatement()) {
            exists = PrivateDatabase.exists(c, target.database());
            List<String> missing = missingRoles(c, readers);
            if (!missing.isEmpty()) {
                throw new CloneException("no role " + missing + " on the target's server to grant the clone to; create it, or leave it out", true);
            }
            if (exists && !replace && !checkOnly) {
                throw new CloneException("target database " + target + " exists; pass --replace to replace it with the clone (its sessions are "
                        + "ended), or name another database", true);
            }
            major = PgTools.serverMajor(s);
            socketFolders = LocalSocket.serverFolders(s); // (a login without pg_read_all_settings may not read it)
        } catch (SQLException e) {
            throw new CloneException(e.getMessage(), false);
        }
        Path pgRestore = PgTools.find("pg_restore", major, pgBin);
        Map<String, String> env = target.password() == null ? Map.of() : Map.of("PGPASSWORD", target.password());
        Map<String, Double> seconds = new LinkedHashMap<>();
        return restore.inPrivateTempFile(m.id() + ".dump", dump -> {
            long t = System.nanoTime();
            phases.accept("downloading and verifying " + m.id());
            String store = restore.download(m, identities, dump, progress);
            t = lap(seconds, "download", t);
            String preData = script(pgRestore, dump, "pre-data", "--section=pre-data");
            DumpSchema schema = DumpSchema.parse(preData, script(pgRestore, dump, "post-data", "--section=post-data"));
            ScrubPlan plan = ScrubPlan.of(schema, scrub);
            for (ScrubPlan.Planned p : plan.columns()) {
                if (p.propagatedFrom() != null) phases.accept(p.column().name() + " takes " + p.rule() + " from " + p.propagatedFrom() + " (foreign key)");
            }
            if (checkOnly) return new Result(m, target.toString(), plan, List.of(), seconds, store, false);
            plan.requireCovered(scrub);
            lap(seconds, "plan", t);
            try (PrivateDatabase db = PrivateDatabase.claim(admin, target.database(), major, random, phases)) {
                String name = db.name();
                Conninfo priv = new Conninfo(target.host(), target.port(), name, target.user(), target.password(), target.query());
                phases.accept("creating the private database " + name + " (no one else may connect)");
                try {
                    db.create();
                } catch (SQLException e) {
                    throw new CloneException("unable to create the clone's database on " + admin.host() + ":" + admin.port() + " (" + e.getMessage()
                            + "); the target's user needs CREATEDB (alter role " + admin.user() + " createdb)", false);
                }
                try {
                    return fill(db, priv, m, schema, preData, plan, key, dump, pgRestore, socketFolders, env, replace, exists, seconds, store, target, phases);
                } catch (IOException | SQLException | RuntimeException e) {
                    try {
                        db.drop();
                    } catch (SQLException dropFailed) {
                        e.addSuppressed(dropFailed);
                    }
                    if (e instanceof CloneException ce) throw ce;
                    CloneException failed = new CloneException("the clone failed (" + e.getMessage() + "); its private database was dropped"
                            + (exists ? " and " + target.database() + " is unchanged" : ""), false);
                    failed.initCause(e);
                    throw failed;
                }
            } catch (SQLException e) {
                throw new CloneException("the clone's private database could not be set up or released on " + admin.host() + ":" + admin.port()
                        + " (" + e.getMessage() + ")", false);
            }
        });
    }

    /** Restores, scrubs and verifies into the private database, then puts it in place. */
    private Result fill(PrivateDatabase db, Conninfo priv, Manifest m, DumpSchema schema, String preData, ScrubPlan plan, byte[] key, Path dump,
                       Path pgRestore, String socketFolders, Map<String, String> env, boolean replace, boolean exists, Map<String, Double> seconds,
                       String store, Conninfo target, Consumer<String> phases) throws IOException, SQLException {
        Optional<LocalSocket.Found> socket = LocalSocket.of(priv, socketFolders, pgRestore, dump, env);
        String connect = socket.map(LocalSocket.Found::url).orElse(priv.libpqUrl());
        long t = System.nanoTime();
        phases.accept("restoring the schema (pre-data)");
        pgRestore(pgRestore, connect, dump, env, "--section=pre-data");
        t = lap(seconds, "pre-data", t);
        List<ScrubDatabase.ColumnResult> columns;
        try (Connection c = TakeBackup.connect(priv, "the private clone database", "check --target")) {
            List<ColumnName> unseen = DumpSchema.unseenPersonal(c, schema);
            if (!unseen.isEmpty()) { // the plan came from pg_dump's SQL: a form of table it cannot read must not pass unscrubbed
                throw new CloneException("the restored schema has personal-looking column(s) that Bunker could not read from the dump's SQL: "
                        + unseen + "; nothing was loaded. Please report the CREATE statement of their tables", false);
            }
            Map<ColumnName.TableName, Long> rows = rowCounts(m);
            List<String> why = new ArrayList<>();
            DataEntries entries = !streamed ? null
                    : !StreamedScrub.shufflesFit(plan, rows) ? refused(why, "a shuffled table holds more values than a shuffle keeps in memory")
                    : DataEntries.split(script(pgRestore, dump, "list", "-l"), preData, plan.byTable().keySet(), c, why);
            if (entries != null) {
                // pg_restore -L files and the spooled tables (unscrubbed rows, as the dump beside them), removed below
                Path work = java.nio.file.Files.createDirectory(dump.getParent().resolve("work"));
                try {
                    Path rest = DataEntries.listFile(work, "rest.list", entries.rest());
                    columns = new StreamedScrub(plan, key, entries, pgRestore, dump, work, priv, random).run(
                            () -> startPgRestore(pgRestore, connect, dump, env, "--section=data", "-j", "2", "-L", rest.toString()), phases);
                } finally {
                    dev.bunker.backup.TempFolders.deleteTree(work);
                }
                t = lap(seconds, "data+scrub", t);
            } else {
                if (!why.isEmpty()) phases.accept("scrubbing in the database after the load: " + why.get(0));
                // The scrubbed tables are loaded and updated unlogged (no WAL for rows about to be rewritten), then made logged
                // again in one rewrite that also leaves out the old row versions.
                List<ColumnName.TableName> unlogged = InDatabaseScrub.setUnlogged(c, plan.byTable().keySet());
                phases.accept("restoring the data with pg_restore -j 2");
                pgRestore(pgRestore, connect, dump, env, "--section=data", "-j", "2");
                t = lap(seconds, "data", t);
                phases.accept("scrubbing " + plan.columns().size() + " column(s)");
                columns = InDatabaseScrub.scrubInParallel(c, priv, plan, key, unlogged, phases);
                lap(seconds, "scrub+verify", t);
            }
            ScrubDatabase.record(c, columns, m.id(), clock.instant());
            ScrubDatabase.requireNoSurvivors(columns);
        }
        t = System.nanoTime();
        phases.accept("building indexes and constraints (post-data, -j 2): the foreign keys are checked here");
        pgRestore(pgRestore, connect, dump, env, "--section=post-data", "-j", "2");
        t = lap(seconds, "post-data", t);
        if (!readers.isEmpty()) {
            phases.accept("granting " + readers + " the use of the scrubbed schemas");
            try (Connection c = TakeBackup.connect(priv, "the private clone database", "check --target")) {
                grantTo(c, readers);
            }
        }
        phases.accept((exists ? "replacing " : "renaming it to ") + target.database());
        db.putInPlace(replace);
        lap(seconds, "swap", t);
        return new Result(m, target.toString(), plan, columns, seconds, store, exists);
    }

    /**
     * Drops what an earlier, killed clone into {@code targetUrl} left (its private database, unscrubbed), saying so in
     * {@code phases}. Waits for nothing: a clone of the target going on meanwhile (its lock held) is refused as {@link CloneException}.
     */
    public void dropLeftovers(String targetUrl, String password, Consumer<String> phases) throws CloneException {
        Conninfo target = target(targetUrl, password);
        Conninfo admin = admin(target);
        try (Connection c = TakeBackup.connect(admin, "the clone target's server", "check the clone's target"); Statement s = c.createStatement()) {
            PrivateDatabase.claim(admin, target.database(), PgTools.serverMajor(s), random, phases).close();
        } catch (SQLException e) {
            throw new CloneException("unable to look for what an interrupted clone left on " + admin.host() + ":" + admin.port() + " (" + e.getMessage() + ")", false);
        }
    }

    /** The target's connection, its password from the URL, else {@code password}, else PGPASSWORD. */
    private static Conninfo target(String targetUrl, String password) {
        Conninfo given = Conninfo.parse(targetUrl, null, null);
        return given.password() != null ? given : Conninfo.parse(targetUrl, null, password != null ? password : System.getenv("PGPASSWORD"));
    }

    /** The same login on the server's maintenance database, where databases are created, renamed and dropped. */
    private static Conninfo admin(Conninfo target) {
        return new Conninfo(target.host(), target.port(), "postgres", target.user(), target.password(), target.query());
    }

    private static double seconds(long since) { return (System.nanoTime() - since) / 1e9; }

    private static long lap(Map<String, Double> seconds, String phase, long since) {
        seconds.put(phase, seconds(since));
        return System.nanoTime();
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static List<String> missingRoles(Connection c, List<String> roles) throws SQLException {
        List<String> missing = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
            for (String r : roles) {
                p.setString(1, r);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) missing.add(r);
                }
            }
        }
        return missing;
    }

    /** Grants {@code roles} the use of every object of the clone's own schemas (the record of the scrub: read only). */
    private static void grantTo(Connection c, List<String> roles) throws SQLException {
        List<String> schemas = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema' order by 1")) {
            while (rs.next()) schemas.add(rs.getString(1));
        }
        try (Statement s = c.createStatement()) {
            for (String role : roles) {
                String r = ColumnName.quote(role);
                for (String schema : schemas) {
                    String n = ColumnName.quote(schema);
                    s.execute("grant usage on schema " + n + " to " + r);
                    if (schema.equals(ScrubDatabase.SCHEMA)) {
                        s.execute("grant select on all tables in schema " + n + " to " + r);
                        continue;
                    }
                    s.execute("grant select, insert, update, delete, truncate, references, trigger on all tables in schema " + n + " to " + r);
                    s.execute("grant usage, select, update on all sequences in schema " + n + " to " + r);
                    s.execute("grant execute on all functions in schema " + n + " to " + r);
                }
            }
        }
    }

    /** What {@code pg_restore ARGS -f - DUMP} prints: a section's SQL (its tables and foreign keys are read from it), or the list of contents. */
    private static String script(Path pgRestore, Path dump, String what, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(pgRestore.toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-f", "-", dump.toString()));
        ToolProcess p = ToolProcess.start("pg_restore (" + what + ")", cmd, Map.of());
        String out = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
        p.awaitSuccess();
        return out;
    }

    private static void pgRestore(Path pgRestore, String connect, Path dump, Map<String, String> env, String... args) throws IOException {
        ToolProcess p = startPgRestore(pgRestore, connect, dump, env, args);
        p.stdout().transferTo(OutputStream.nullOutputStream());
        p.awaitSuccess();
    }

    private static ToolProcess startPgRestore(Path pgRestore, String connect, Path dump, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(pgRestore.toString(), "--no-owner", "--no-privileges", "--no-password", "--exit-on-error"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-d", connect, dump.toString()));
        return ToolProcess.start("pg_restore", cmd, env);
    }

    /** The manifest's row counts by table (its keys are quote_ident'ed {@code schema.table}). */
    private static Map<ColumnName.TableName, Long> rowCounts(Manifest m) {
        Map<ColumnName.TableName, Long> out = new java.util.HashMap<>();
        for (Map.Entry<String, Long> e : m.rowCounts().entrySet()) {
            List<String> parts = ColumnName.parts(e.getKey());
            if (parts.size() == 2) out.put(new ColumnName.TableName(parts.get(0), parts.get(1)), e.getValue());
        }
        return out;
    }

    private static DataEntries refused(List<String> why, String reason) {
        why.add(reason);
        return null;
    }
}
