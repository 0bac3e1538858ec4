package dev.bunker.drill;

import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Conninfo;
import dev.bunker.backup.PgTools;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TempFolders;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.drill.DrillRuns.Check;
import dev.bunker.pitr.PointInTimeRestore;
import dev.bunker.pitr.RestoredServer;
import dev.bunker.store.Store;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The database drill of a source with point-in-time recovery: restore it as it was a minute ago (the newest base backup
 * and the streamed WAL, from the backup stores alone) into a throwaway data directory, let PostgreSQL replay and promote,
 * and check it: the freshness column within the RPO and the operator's SQL checks. The achieved RPO is how far the
 * restored database is behind the drill's start (its last commit); the RTO, restore plus replay. The server listens on
 * no TCP port, only on a socket in a folder of this user's (0700), so no other local process reaches the restored data.
 */
final class PitrDrill {
    static final Duration BEHIND = Duration.ofMinutes(1);

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final DrillRuns runs;
    private final Clock clock;

    PitrDrill(BunkerConfig config, Map<String, Store> stores, DrillRuns runs, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.runs = runs;
        this.clock = clock;
    }

    DrillRuns.Run run(BackupSource source) throws Exception {
        DrillsConfig d = config.drills();
        Instant started = clock.instant();
        // Streamed WAL reaches a minute ago; pushed WAL (wal: archive) only to the last segment the server finished, so
        // that drill restores all of it and the RPO shows how far behind that is.
        Instant target = source.pitr().archive() ? null : started.minus(BEHIND);
        String targetName = target == null ? "the newest WAL stored" : target.toString();
        List<Check> checks = new ArrayList<>();
        StringBuilder log = new StringBuilder("point-in-time drill of " + source.name() + ": restore to " + targetName + "\n");
        Path work = TempFolders.createPrivate(config.dataDir(), "drill-pitr-");
        String baseId = null;
        Double rpo = null;
        Double rto = null;
        Process server = null;
        try {
            long t0 = System.nanoTime();
            RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
            PointInTimeRestore.Result r = new PointInTimeRestore(config.backups(), stores, restore, config.dataDir())
                    .run(source.name(), target, work.resolve("data"), AgeCrypto.readIdentities(d.identity()), line -> {});
            baseId = r.baseBackup();
            Instant restoredTo = r.lastCommitAt() != null ? r.lastCommitAt() : target; // null: no commit since the base backup, RPO not measured
            if (restoredTo != null) rpo = Duration.between(restoredTo, started).toMillis() / 1000.0;
            checks.add(new Check("restore to " + targetName, true, String.format("base backup %s and %d WAL segment(s) from store '%s' in %.1f s; "
                    + "the last transaction kept committed at %s", r.baseBackup(), r.segments(), r.store(), r.seconds(), r.lastCommitAt())));
            Path socket = Files.createDirectory(work.resolve("socket"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            privateAccess(r.dataDirectory());
            server = start(r, socket, work.resolve("server.log"));
            Psql psql = new Psql(PgTools.find("psql", r.majorVersion(), config.backups().pgBin()), socket);
            Conninfo conn = Conninfo.parse(source.url(), source.user(), null);
            String recovered = awaitPromotion(psql, server, work.resolve("server.log"), conn.user() == null ? "postgres" : conn.user());
            rto = (System.nanoTime() - t0) / 1e9;
            checks.add(new Check("replay and promote", true, String.format("the restored server replayed the WAL and promoted itself; restore + "
                    + "replay %.1f s", rto)));
            String superuser = psql.query(recovered, "postgres", "select rolname from pg_roles where oid = 10");
            String database = conn.database();
            if (d.freshnessColumn() != null) checks.add(freshness(psql, superuser, database, d));
            for (String sql : d.checks()) {
                try {
                    boolean ok = psql.query(superuser, database, "select (" + sql + ")::boolean").equals("t");
                    checks.add(new Check("sql: " + sql, ok, ok ? "true" : "returned false"));
                } catch (IOException e) {
                    checks.add(new Check("sql: " + sql, false, e.getMessage()));
                }
            }
        } catch (Exception e) {
            checks.add(new Check("restore to a point in time and start", false, e.getMessage()));
        } finally {
            if (server != null) stop(server);
            TempFolders.deleteTree(work);
        }
        boolean ok = !checks.isEmpty() && checks.stream().allMatch(Check::ok);
        for (Check c : checks) log.append(c.ok() ? "ok   " : "FAIL ").append(c.name()).append(": ").append(c.detail()).append('\n');
        return runs.record(new DrillRuns.Run(0, DatabaseDrill.KIND, started, clock.instant(), ok, baseId, rpo, rto, checks, log.toString()));
    }

    /**
     * Only this user reaches the restored server: a pg_hba.conf that trusts the local socket and nothing else (the socket's
     * folder is 0700 and the server listens on no TCP port), and a minimal postgresql.conf where the backup had none (Debian
     * keeps it in /etc).
     */
    private static void privateAccess(Path dir) throws IOException {
        Files.writeString(dir.resolve("pg_hba.conf"), "# bunker drill: the socket in a private folder only\nlocal all all trust\n");
        if (!Files.exists(dir.resolve("postgresql.conf"))) Files.writeString(dir.resolve("postgresql.conf"), "# written by the bunker drill\n");
    }

    private Process start(PointInTimeRestore.Result r, Path socket, Path serverLog) throws IOException {
        Path postgres = PgTools.find("postgres", r.majorVersion(), config.backups().pgBin());
        Path dir = r.dataDirectory();
        Map<String, String> settings = RestoredServer.baseSettings(dir);
        settings.put("listen_addresses", "");
        settings.put("unix_socket_directories", socket.toString());
        settings.put("port", "5432");
        return new ProcessBuilder(RestoredServer.command(postgres, dir, settings, false)).redirectErrorStream(true).redirectOutput(serverLog.toFile())
                .start();
    }

    /** Waits until the server accepts a connection and is out of recovery; returns a role that logged in. */
    private static String awaitPromotion(Psql psql, Process server, Path serverLog, String role) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) throw new IOException("the restored server stopped: " + tail(serverLog));
            try {
                if (psql.query(role, "postgres", "select pg_is_in_recovery()").equals("f")) return role;
            } catch (IOException e) {
                // refused while it replays (hot_standby is off)
            }
            Thread.sleep(200);
        }
        throw new IOException("the restored server did not finish replaying within 30 minutes: " + tail(serverLog));
    }

    private Check freshness(Psql psql, String superuser, String database, DrillsConfig d) {
        String[] parts = d.freshnessColumn().split("\\.");
        String name = "freshness of " + d.freshnessColumn();
        try {
            String newest = psql.query(superuser, database, "select extract(epoch from max(\"" + parts[2] + "\"))::bigint from \"" + parts[0] + "\".\""
                    + parts[1] + "\"");
            if (newest.isEmpty()) return new Check(name, false, "the table has no rows");
            Duration age = Duration.between(Instant.ofEpochSecond(Long.parseLong(newest)), clock.instant());
            boolean ok = age.compareTo(d.rpo()) <= 0;
            return new Check(name, ok, "newest row is " + age.toSeconds() + " s old; the recovery-point objective is " + d.rpo().toSeconds() + " s");
        } catch (IOException | RuntimeException e) {
            return new Check(name, false, e.getMessage());
        }
    }

    /** psql over the private socket, one query at a time (JDBC has no unix sockets). */
    private record Psql(Path binary, Path socket) {
        String query(String user, String database, String sql) throws IOException {
            Process p = new ProcessBuilder(binary.toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socket.toString(), "-p", "5432",
                    "-U", user, "-d", database, "-c", sql).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            return out;
        }
    }

    private static void stop(Process server) {
        server.destroy(); // SIGTERM: a smart shutdown, nobody is connected
        try {
            if (!server.waitFor(60, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) {
        try {
            return RestoredServer.tail(Files.readString(log));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
