package dev.bunker.scrub;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.LocalSocket;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.PgTools;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TakeBackup;
import dev.bunker.backup.TempFolders;
import dev.bunker.scrub.ScrubPlan.ColumnType;
import dev.bunker.scrub.ScrubRules.Column;
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
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code bunker db clone}: a backup (never the live database) restored into a private new database on the target's
 * server (CONNECT revoked from PUBLIC), its tables loaded, the scrub file's columns rewritten and checked, then its
 * indexes and constraints built (foreign keys validate that joins still match), and only then renamed to the target's
 * name and opened. Any failure drops the private database and leaves an existing target untouched.
 */
public final class CloneDatabase {
    /** What a clone did; {@code target} null for a --check. */
    public record Result(String backupId, String target, ScrubPlan plan, List<Scrubber.Done> columns, double downloadSeconds, double loadSeconds,
                         double scrubSeconds, double indexSeconds) {}

    static final String COLUMNS = """
            select c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length, c.is_nullable = 'YES',
                   (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
                     where a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass and a.attname = c.column_name)
              from information_schema.columns c join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
             where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
             order by c.table_schema, c.table_name, c.ordinal_position
            """;

    private final RestoreBackup restore;
    private final Path dataDir;
    private final Path pgBin;
    private final Clock clock;

    public CloneDatabase(RestoreBackup restore, Path dataDir, Path pgBin, Clock clock) {
        this.restore = restore;
        this.dataDir = dataDir;
        this.pgBin = pgBin;
        this.clock = clock;
    }

    public Result run(String backupRef, String source, String targetUrl, ScrubRules rules, List<String> identities, boolean replace, boolean checkOnly,
                      Consumer<String> progress) throws IOException, SQLException {
        Manifest m = restore.find(backupRef, source);
        if (m.isBase() || m.isMariaDb()) {
            throw new ScrubException("backup " + m.id() + " is " + (m.isBase() ? "a base backup" : "a MariaDB dump")
                    + "; clones are made from PostgreSQL dumps (db list shows them)");
        }
        Conninfo given = Conninfo.parse(targetUrl, null, null);
        Conninfo target = given.password() != null ? given : Conninfo.parse(targetUrl, null, System.getenv("PGPASSWORD"));
        String name = target.database();
        if (name == null || name.isEmpty() || name.equals("postgres") || name.startsWith("template")) {
            throw new ScrubException("--target must name the database to create, e.g. postgresql://dev@127.0.0.1:5432/app_dev (not " + name + ")");
        }
        Conninfo admin = with(target, "postgres");
        String privateName = name + "_bunker_clone_" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
        int major;
        String sockets;
        try (Connection c = TakeBackup.connect(admin, "the clone's target server", "check --target (the user needs CREATEDB; password in PGPASSWORD)");
             Statement s = c.createStatement()) {
            if (exists(c, name) && !replace && !checkOnly) {
                throw new ScrubException("database " + name + " exists on the target server; pass --replace to put the new clone in its place");
            }
            try (ResultSet rs = s.executeQuery("select current_setting('server_version_num')::int, current_setting('unix_socket_directories')")) {
                rs.next();
                major = rs.getInt(1) / 10000;
                sockets = rs.getString(2);
            }
        }
        Path pgRestore = PgTools.find("pg_restore", major, pgBin);
        Path dir = TempFolders.createPrivate(dataDir, "clone-");
        boolean created = false;
        try {
            Path dump = dir.resolve(m.id() + ".dump");
            long t0 = System.nanoTime();
            restore.download(m, identities, dump, progress);
            double download = seconds(t0);
            List<ScrubPlan.ForeignKey> fks = ScrubPlan.foreignKeys(postData(pgRestore, dump));
            try (Connection c = TakeBackup.connect(admin, "the clone's target server", "check --target"); Statement s = c.createStatement()) {
                s.execute("create database " + Scrubber.quote(privateName));
                created = true;
                s.execute("revoke connect on database " + Scrubber.quote(privateName) + " from public"); // nobody else until it is scrubbed
            }
            Conninfo priv = with(target, privateName);
            Map<String, String> env = target.password() == null ? Map.of() : Map.of("PGPASSWORD", target.password());
            String connect = LocalSocket.of(priv, sockets, pgRestore, dump, env).map(LocalSocket.Found::url).orElse(priv.libpqUrl());
            long t1 = System.nanoTime();
            pgRestore(pgRestore, dump, connect, env, "pre-data", false);
            ScrubPlan plan;
            try (Connection c = TakeBackup.connect(priv, "the private clone", "check --target")) {
                plan = ScrubPlan.of(rules, catalog(c), fks);
            }
            plan.notes().forEach(progress);
            if (checkOnly) return new Result(m.id(), null, plan, List.of(), download, 0, 0, 0);
            if (!plan.uncovered().isEmpty()) {
                throw new ScrubException("columns that look personal are neither scrubbed nor marked keep in " + rules.file() + ": "
                        + plan.uncovered() + "; add a rule or `keep` for each (bunker db clone --check lists the coverage)");
            }
            progress.accept("loading the tables of " + m.id());
            pgRestore(pgRestore, dump, connect, env, "data", true);
            double load = seconds(t1);
            long t2 = System.nanoTime();
            List<Scrubber.Done> done;
            try (Connection c = TakeBackup.connect(priv, "the private clone", "check --target")) {
                done = new Scrubber(c, progress).run(plan, rules.hashKey(), m.id(), clock.instant());
            }
            double scrub = seconds(t2);
            long t3 = System.nanoTime();
            progress.accept("building indexes and constraints (foreign keys check that joins still match)");
            pgRestore(pgRestore, dump, connect, env, "post-data", true);
            double index = seconds(t3);
            try (Connection c = TakeBackup.connect(admin, "the clone's target server", "check --target"); Statement s = c.createStatement()) {
                if (exists(c, name)) {
                    terminate(c, name);
                    s.execute("drop database " + Scrubber.quote(name));
                }
                s.execute("alter database " + Scrubber.quote(privateName) + " rename to " + Scrubber.quote(name));
                created = false;
                s.execute("grant connect on database " + Scrubber.quote(name) + " to public");
            }
            return new Result(m.id(), name, plan, done, download, load, scrub, index);
        } finally {
            if (created) dropQuietly(admin, privateName, progress);
            TempFolders.deleteTree(dir);
        }
    }

    private static Map<Column, ColumnType> catalog(Connection c) throws SQLException {
        Map<Column, ColumnType> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(COLUMNS)) {
            while (rs.next()) {
                int max = rs.getInt(5);
                Integer maxLength = rs.wasNull() ? null : max;
                out.put(new Column(rs.getString(1), rs.getString(2), rs.getString(3)), new ColumnType(rs.getString(4), maxLength, rs.getBoolean(6), rs.getString(7)));
            }
        }
        return out;
    }

    /** The dump's post-data section as SQL (its foreign keys are read from it). */
    private static String postData(Path pgRestore, Path dump) throws IOException {
        ToolProcess p = ToolProcess.start("pg_restore", List.of(pgRestore.toString(), "--section=post-data", "-f", "-", dump.toString()), Map.of());
        String sql = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
        p.awaitSuccess();
        return sql;
    }

    private static void pgRestore(Path pgRestore, Path dump, String connect, Map<String, String> env, String section, boolean parallel) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(pgRestore.toString(), "--section=" + section, "--no-owner", "--no-privileges", "--no-password",
                "--exit-on-error"));
        if (parallel) cmd.addAll(List.of("-j", "2"));
        cmd.addAll(List.of("-d", connect, dump.toString()));
        ToolProcess p = ToolProcess.start("pg_restore", cmd, env);
        p.stdout().transferTo(OutputStream.nullOutputStream());
        p.awaitSuccess();
    }

    private static boolean exists(Connection c, String db) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
            ps.setString(1, db);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void terminate(Connection c, String db) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()")) {
            ps.setString(1, db);
            ps.executeQuery().close();
        }
    }

    private static void dropQuietly(Conninfo admin, String db, Consumer<String> progress) {
        try (Connection c = TakeBackup.connect(admin, "the clone's target server", "check --target"); Statement s = c.createStatement()) {
            terminate(c, db);
            s.execute("drop database if exists " + Scrubber.quote(db));
        } catch (SQLException e) {
            progress.accept("could not drop the unfinished clone " + db + " (drop it by hand): " + e.getMessage());
        }
    }

    private static Conninfo with(Conninfo c, String database) {
        return new Conninfo(c.host(), c.port(), database, c.user(), c.password(), c.query());
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
