package dev.bunker.drill;

import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TempFolders;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.db.PasswordAuth;
import dev.bunker.drill.DrillRuns.Check;
import dev.bunker.mariadb.MariaDbSource;
import dev.bunker.mariadb.MariaDbUrl;
import dev.bunker.store.Store;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The database drill: take the newest backup from a backup store (its manifests, not Bunker's own
 * catalog: the drill must work as if the production database were gone), start a fresh throwaway
 * PostgreSQL 15 (initdb into a temp folder, a free port), restore into it, run the checks, tear it
 * down, and record the verdict with the achieved RPO (the backup's age) and RTO (start + restore). A MariaDB source's dump
 * goes into a {@link ThrowawayMariaDb} instead; a source with point-in-time recovery gets {@link PitrDrill}.
 */
public final class DatabaseDrill {
    /** The kinds of drill run this records: a dump or point in time, and (kept apart, so neither hides the other) a physical backup. */
    public static final String KIND = "db";
    public static final String PHYSICAL_KIND = "db-physical";

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final DrillRuns runs;
    private final Clock clock;

    public DatabaseDrill(BunkerConfig config, Map<String, Store> stores, DrillRuns runs, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.runs = runs;
        this.clock = clock;
    }

    /**
     * Drills {@code source} (null: drills.db.source, else the first source with pitr, else the newest backup of any): the
     * point-in-time drill for a source with pitr unless {@code dumpsOnly}, else the newest dump or snapshot.
     */
    public DrillRuns.Run run(String source, boolean dumpsOnly) throws Exception {
        String name = source != null ? source : config.drills().source();
        BunkerConfig.BackupSource s = name != null ? config.backups().sources().get(name)
                : config.backups().sources().values().stream().filter(b -> b.pitr() != null || b.binlog() != null).findFirst().orElse(null);
        if (!dumpsOnly && s != null && s.pitr() != null) return new PitrDrill(config, stores, runs, clock).run(s);
        if (!dumpsOnly && s != null && s.binlog() != null) return runBinlog(s);
        return run(name);
    }

    public DrillRuns.Run run(String source) throws Exception {
        DrillsConfig d = config.drills();
        Instant started = clock.instant();
        List<Check> checks = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        Path tmp = config.dataDir().resolve("tmp");
        Files.createDirectories(tmp);
        RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
        Manifest m = null;
        Double rto = null;
        try {
            m = restore.find("latest", source != null ? source : d.source());
            log.append("newest backup in the stores: ").append(m.id()).append(", finished ").append(m.finishedAt()).append('\n');
            List<String> identities = AgeCrypto.readIdentities(d.identity());
            if (m.isMariaDb()) {
                rto = restoreMariaDb(m, restore, identities, d, checks, log);
                return record(started, m, rto, checks, log);
            }
            Path pgDir = Files.createTempDirectory(tmp, "drill-pg-");
            long t0 = System.nanoTime();
            // The restored production data is readable only with this run's password, never by other local processes.
            String password = PasswordAuth.newPassword();
            try (EmbeddedPostgres pg = PasswordAuth.builder(pgDir, password).setCleanDataDirectory(true).setRegisterShutdownHook(true).start()) {
                String admin = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
                try (Connection c = DriverManager.getConnection(admin, "postgres", password); Statement s = c.createStatement()) {
                    s.execute("create database drill");
                }
                log.append("throwaway PostgreSQL 15 on port ").append(pg.getPort()).append(" in ").append(pgDir).append('\n');
                String target = "postgresql://postgres:" + password + "@127.0.0.1:" + pg.getPort() + "/drill";
                try {
                    RestoreBackup.Result r = restore.run(m, target, identities, false, line -> {});
                    rto = (System.nanoTime() - t0) / 1e9;
                    checks.add(new Check("restore", true, String.format("restored from store '%s' in %.1f s (download+decrypt %.1f s, pg_restore %.1f s)",
                            r.store(), rto, r.downloadSeconds(), r.restoreSeconds())));
                } catch (Exception e) {
                    checks.add(new Check("restore", false, e.getMessage()));
                }
                String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/drill";
                if (checks.get(0).ok()) {
                    try (Connection c = DriverManager.getConnection(url, "postgres", password)) {
                        check(c, false, m, d, checks);
                    } catch (Exception e) {
                        checks.add(new Check("connect to the restored database", false, e.getMessage()));
                    }
                }
            } finally {
                TempFolders.deleteTree(pgDir);
            }
        } catch (Exception e) {
            checks.add(new Check("find and open the backup", false, e.getMessage()));
        }
        return record(started, m, rto, checks, log);
    }

    private DrillRuns.Run record(Instant started, Manifest m, Double rto, List<Check> checks, StringBuilder log) throws java.sql.SQLException {
        return record(KIND, started, m, rto, checks, log);
    }

    private DrillRuns.Run record(String kind, Instant started, Manifest m, Double rto, List<Check> checks, StringBuilder log) throws java.sql.SQLException {
        Double rpo = m == null ? null : Duration.between(m.finishedAt(), started).toMillis() / 1000.0;
        return record(kind, started, m == null ? null : m.id(), rpo, rto, checks, log);
    }

    private DrillRuns.Run record(String kind, Instant started, String backupId, Double rpo, Double rto, List<Check> checks, StringBuilder log)
            throws java.sql.SQLException {
        boolean ok = !checks.isEmpty() && checks.stream().allMatch(Check::ok);
        for (Check c : checks) log.append(c.ok() ? "ok   " : "FAIL ").append(c.name()).append(": ").append(c.detail()).append('\n');
        return runs.record(new DrillRuns.Run(0, kind, started, clock.instant(), ok, backupId, rpo, rto, checks, log.toString()));
    }

    /**
     * The point-in-time drill of a MariaDB source with binlog: the newest dump and all of the binary log stored after it,
     * restored into a MariaDB server of the drill's own, then the freshness and SQL checks (the dump's row counts no longer
     * apply once the log is replayed). RPO: how far the newest replayed event is behind the drill's start.
     */
    private DrillRuns.Run runBinlog(BunkerConfig.BackupSource source) throws Exception {
        DrillsConfig d = config.drills();
        Instant started = clock.instant();
        List<Check> checks = new ArrayList<>();
        StringBuilder log = new StringBuilder("point-in-time drill of " + source.name() + ": the newest dump and the binary log stored after it\n");
        String dbName = source.mariaDbUrl().database(); // null: every database, restored into the server
        String dumpId = null;
        Double rpo = null;
        Double rto = null;
        try (ThrowawayMariaDb server = ThrowawayMariaDb.start(config.dataDir(), List.of())) {
            log.append("throwaway MariaDB on port ").append(server.port()).append(" in ").append(server.folder()).append('\n');
            long t0 = System.nanoTime();
            RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
            dev.bunker.binlog.BinlogRestore.Result r = new dev.bunker.binlog.BinlogRestore(config.backups(), stores, restore, config.dataDir())
                    .run(source.name(), null, server.restoreTarget(dbName), AgeCrypto.readIdentities(d.identity()), false, line -> {});
            rto = (System.nanoTime() - t0) / 1e9;
            dumpId = r.dump();
            if (r.storedThrough() != null) rpo = Duration.between(r.storedThrough(), started).toMillis() / 1000.0;
            checks.add(new Check("restore and replay", true, String.format("dump %s and %d binary log file(s) from store '%s' in %.1f s; the newest "
                    + "event replayed is of %s", r.dump(), r.files().size(), r.store(), rto, r.storedThrough())));
            try (Connection c = server.connect(dbName); Statement s = c.createStatement()) {
                operatorChecks(s, true, d, checks);
            }
        } catch (Exception e) {
            checks.add(new Check("restore to the newest stored binary log", false, e.getMessage()));
        }
        return record(KIND, started, dumpId, rpo, rto, checks, log);
    }

    /**
     * The drill of a MariaDB source's newest physical backup (mariadb-backup): unpacked and prepared from a backup store into a
     * private folder, started as a MariaDB server of the drill's own, every table of the source's database read to the end,
     * then the freshness and SQL checks. RPO: the backup's age; RTO: download, prepare and start.
     */
    public DrillRuns.Run runPhysical(String sourceName) throws Exception {
        DrillsConfig d = config.drills();
        BunkerConfig.BackupSource source = config.backups().sources().get(sourceName);
        if (source == null) throw new IllegalArgumentException("no backup source \"" + sourceName + "\"; configured: " + config.backups().sources().keySet());
        if (!MariaDbUrl.matches(source.url())) {
            throw new IllegalArgumentException("source " + sourceName + " is PostgreSQL: its base backups are drilled by the point-in-time drill "
                    + "(`bunker drill db --source " + sourceName + "`); --physical applies to MariaDB sources");
        }
        String dbName = source.mariaDbUrl().database(); // null: every database of the server
        Instant started = clock.instant();
        List<Check> checks = new ArrayList<>();
        StringBuilder log = new StringBuilder("physical backup drill of " + sourceName + "\n");
        RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
        Manifest m = null;
        Double rto = null;
        Path work = TempFolders.createPrivate(config.dataDir(), "drill-physical-");
        try {
            m = restore.find("latest", sourceName, true);
            log.append("newest physical backup in the stores: ").append(m.id()).append(", finished ").append(m.finishedAt()).append('\n');
            long t0 = System.nanoTime();
            RestoreBackup.BaseResult r = restore.runBase(m, work.resolve("data"), AgeCrypto.readIdentities(d.identity()), line -> log.append(line).append('\n'));
            checks.add(new Check("restore", true, String.format("%d files from store '%s': download and unpack %.1f s, prepare %.1f s", r.files(), r.store(),
                    r.downloadSeconds(), r.extractSeconds())));
            try (ThrowawayMariaDb server = ThrowawayMariaDb.startOn(config.dataDir(), r.dataDirectory(), List.of())) {
                rto = (System.nanoTime() - t0) / 1e9;
                checks.add(new Check("start a server on the restored files", true, String.format("MariaDB on port %d, up %.1f s after the download began",
                        server.port(), rto)));
                try (Connection c = server.connect(dbName); Statement s = c.createStatement()) {
                    checks.add(readEveryTable(s, dbName));
                    // The freshness column and SQL checks are written for drills.db.source's database.
                    if (sourceName.equals(d.source())) operatorChecks(s, true, d, checks);
                }
            }
        } catch (Exception e) {
            checks.add(new Check(m == null ? "find the newest physical backup" : "restore and start", false, e.getMessage()));
        } finally {
            TempFolders.deleteTree(work);
        }
        return record(PHYSICAL_KIND, started, m, rto, checks, log);
    }

    /**
     * Reads every table of {@code db} (null: of every database but the server's own) to the end (a page InnoDB cannot read
     * fails the count); a physical backup records no row counts.
     */
    private static Check readEveryTable(Statement s, String db) {
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' and "
                + (db != null ? "table_schema = database()" : "table_schema not in ('" + String.join("', '", MariaDbSource.SYSTEM) + "')")
                + " order by table_schema, table_name")) {
            while (rs.next()) tables.add("`" + rs.getString(1).replace("`", "``") + "`.`" + rs.getString(2).replace("`", "``") + "`");
        } catch (Exception e) {
            return new Check("every table readable", false, e.getMessage());
        }
        long rows = 0;
        List<String> unreadable = new ArrayList<>();
        for (String t : tables) {
            try (ResultSet rs = s.executeQuery("select count(*) from " + t)) {
                rs.next();
                rows += rs.getLong(1);
            } catch (Exception e) {
                unreadable.add(t + ": " + e.getMessage());
            }
        }
        String which = db != null ? db : "the server's databases";
        if (tables.isEmpty()) return new Check("every table readable", false, (db != null ? "database " : "") + which + " has no tables in the restored server");
        return new Check("every table readable", unreadable.isEmpty(), unreadable.isEmpty()
                ? tables.size() + " tables of " + which + ", " + rows + " rows" : String.join("; ", unreadable));
    }

    /**
     * A MariaDB dump: restored into a throwaway MariaDB server of the drill's own, into a database of the source's name (so the
     * freshness column and the SQL checks name it as in production). Returns the RTO, null if the restore failed.
     */
    private Double restoreMariaDb(Manifest m, RestoreBackup restore, List<String> identities, DrillsConfig d, List<Check> checks, StringBuilder log)
            throws IOException {
        BunkerConfig.BackupSource source = config.backups().sources().get(m.source());
        String dbName = m.allDatabases() ? null // each of its databases by name
                : source != null && MariaDbUrl.matches(source.url()) && !source.allDatabases() ? source.mariaDbUrl().database() : "drill";
        long t0 = System.nanoTime();
        Double rto = null;
        ThrowawayMariaDb started;
        try {
            started = ThrowawayMariaDb.start(config.dataDir(), List.of());
        } catch (IOException e) {
            checks.add(new Check("start a throwaway MariaDB", false, e.getMessage()));
            return null;
        }
        try (ThrowawayMariaDb server = started) {
            log.append("throwaway MariaDB on port ").append(server.port()).append(" in ").append(server.folder()).append('\n');
            try {
                RestoreBackup.Result r = restore.run(m, server.restoreTarget(dbName), identities, false, line -> {});
                rto = (System.nanoTime() - t0) / 1e9;
                checks.add(new Check("restore", true, String.format("restored from store '%s' in %.1f s (download+decrypt %.1f s, mariadb %.1f s)",
                        r.store(), rto, r.downloadSeconds(), r.restoreSeconds())));
            } catch (Exception e) {
                checks.add(new Check("restore", false, e.getMessage()));
                return null;
            }
            try (Connection c = server.connect(dbName)) {
                check(c, true, m, d, checks);
            } catch (Exception e) {
                checks.add(new Check("connect to the restored database", false, e.getMessage()));
            }
        }
        return rto;
    }

    private void check(Connection c, boolean mariaDb, Manifest m, DrillsConfig d, List<Check> checks) throws java.sql.SQLException {
        try (Statement s = c.createStatement()) {
            List<String> mismatches = new ArrayList<>();
            for (Map.Entry<String, Long> t : m.rowCounts().entrySet()) {
                try (ResultSet rs = s.executeQuery("select count(*) from " + t.getKey())) { // names stored quoted by quote_ident
                    rs.next();
                    if (rs.getLong(1) != t.getValue()) mismatches.add(t.getKey() + " has " + rs.getLong(1) + " rows, the backup recorded " + t.getValue());
                } catch (Exception e) {
                    mismatches.add(t.getKey() + " is not readable: " + e.getMessage());
                }
            }
            checks.add(new Check("every table readable, row counts as recorded", mismatches.isEmpty(),
                    mismatches.isEmpty() ? m.rowCounts().size() + " tables match" : String.join("; ", mismatches)));
            operatorChecks(s, mariaDb, d, checks);
        }
    }

    /** The freshness column within the RPO and the operator's SQL checks, in the restored database. */
    private void operatorChecks(Statement s, boolean mariaDb, DrillsConfig d, List<Check> checks) {
        if (d.freshnessColumn() != null) checks.add(freshness(s, d, mariaDb));
        for (String sql : d.checks()) {
            try (ResultSet rs = s.executeQuery(mariaDb ? "select (" + sql + ") is true" : "select (" + sql + ")::boolean")) {
                rs.next();
                boolean ok = rs.getBoolean(1);
                checks.add(new Check("sql: " + sql, ok, ok ? "true" : "returned false"));
            } catch (Exception e) {
                checks.add(new Check("sql: " + sql, false, e.getMessage()));
            }
        }
    }

    /** The newest row's time must be within the RPO of now: a backup of a database that stopped changing is a stale backup. */
    private Check freshness(Statement s, DrillsConfig d, boolean mariaDb) {
        String[] parts = d.freshnessColumn().split("\\.");
        String q = mariaDb ? "`" : "\"";
        String sql = "select max(" + q + parts[2] + q + ") from " + q + parts[0] + q + "." + q + parts[1] + q;
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            Timestamp newest = rs.getTimestamp(1);
            if (newest == null) return new Check("freshness of " + d.freshnessColumn(), false, "the table has no rows");
            Duration age = Duration.between(newest.toInstant(), clock.instant());
            boolean ok = age.compareTo(d.rpo()) <= 0;
            return new Check("freshness of " + d.freshnessColumn(), ok, "newest row is " + age.toHours() + " h old (" + newest.toInstant()
                    + "); the recovery-point objective is " + d.rpo().toHours() + " h");
        } catch (Exception e) {
            return new Check("freshness of " + d.freshnessColumn(), false, e.getMessage());
        }
    }
}
