package dev.bunker.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The PostgreSQL 15 server Bunker runs for itself when no {@code database.url} is configured: a real
 * server process (zonky's binaries) whose data lives under {@code <data-dir>/postgres} and survives
 * restarts. A second Bunker command on the same data dir (say {@code bunker status} next to a running
 * {@code serve}) attaches to the running server instead of starting another. Every connection needs the
 * password in {@code <data-dir>/db-password} ({@link PasswordAuth}): other local processes cannot get in.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    /** Next to the database folder: the superuser's password, which every connection needs (mode 0600). */
    public static final String PASSWORD_FILE = "db-password";

    private final Path dataDir;
    private final int port;
    private final String password;
    private final EmbeddedPostgres started; // null when attached to a server another process started

    private EmbeddedPostgresServer(Path dataDir, int port, String password, EmbeddedPostgres started) {
        this.dataDir = dataDir;
        this.port = port;
        this.password = password;
        this.started = started;
    }

    public static EmbeddedPostgresServer startOrAttach(Path dataDir) {
        String password = PasswordAuth.readOrCreate(dataDir.resolveSibling(PASSWORD_FILE));
        Optional<Integer> running = runningPort(dataDir);
        if (running.isPresent()) return new EmbeddedPostgresServer(dataDir, running.get(), password, null);
        try {
            Files.createDirectories(dataDir);
            EmbeddedPostgres pg = PasswordAuth.builder(dataDir, password)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false) // serve stops it last, after the pool; see ServeCommand
                    .setServerConfig("max_connections", "200")
                    // zonky's defaults are made for throwaway test databases (fsync off); this one holds the ledger.
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .start();
            return new EmbeddedPostgresServer(dataDir, pg.getPort(), password, pg);
        } catch (IOException e) {
            throw new IllegalStateException("unable to start the embedded PostgreSQL in " + dataDir + ": " + e.getMessage()
                    + "; if another process holds it, stop that process, or set database.url to use an external PostgreSQL", e);
        }
    }

    /** The port of a live postmaster on this data dir, read from its postmaster.pid. */
    private static Optional<Integer> runningPort(Path dataDir) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        try {
            if (!Files.isRegularFile(pidFile)) return Optional.empty();
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.size() < 4) return Optional.empty();
            long pid = Long.parseLong(lines.get(0).trim());
            int port = Integer.parseInt(lines.get(3).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(p -> port);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() { return "postgres"; }

    public String password() { return password; }

    public Path dataDir() { return dataDir; }

    @Override
    public void close() {
        if (started == null) return;
        try {
            started.close();
        } catch (IOException e) {
            throw new IllegalStateException("unable to stop the embedded PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
        }
    }
}
