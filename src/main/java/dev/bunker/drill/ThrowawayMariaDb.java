package dev.bunker.drill;

import dev.bunker.backup.TempFolders;
import dev.bunker.db.PasswordAuth;
import dev.bunker.mariadb.MariaDbUrl;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A MariaDB server of its own for one drill (or test): {@code mariadb-install-db} into a private folder, {@code mariadbd} on
 * a free 127.0.0.1 port with its socket in that folder, one account with this run's random password (root is reachable only
 * through the socket, by this OS user), stopped and removed on close. The restored production data is never readable by
 * other local processes.
 */
public final class ThrowawayMariaDb implements AutoCloseable {
    private static final String USER = "bunker";

    private final Path dir;
    private final Process server;
    private final int port;
    private final String password;

    private ThrowawayMariaDb(Path dir, Process server, int port, String password) {
        this.dir = dir;
        this.server = server;
        this.port = port;
        this.password = password;
    }

    /** Starts a server in a new private folder under {@code <dataDir>/tmp}; {@code extraOptions} such as {@code --log-bin=binlog}. */
    public static ThrowawayMariaDb start(Path dataDir, List<String> extraOptions) throws IOException {
        Path dir = TempFolders.createPrivate(dataDir, "mariadb-");
        try {
            String osUser = System.getProperty("user.name");
            Path data = dir.resolve("data");
            run(List.of(tool("mariadb-install-db"), "--no-defaults", "--datadir=" + data, "--user=" + osUser, "--skip-test-db",
                    "--auth-root-authentication-method=socket"), dir.resolve("install.log"));
            return launchWithAccount(dir, data, "", extraOptions);
        } catch (IOException | RuntimeException e) {
            TempFolders.deleteTree(dir);
            throw e;
        }
    }

    /**
     * Starts a server on a data directory restored from a physical backup ({@code data}, moved into a new private folder
     * under {@code <dataDir>/tmp}). The drill's own account (this run's password) is created or replaced at startup, so no
     * production password is needed, and every account the copy brought from production is locked: whoever knows an app's
     * password cannot read the copy while the drill runs.
     */
    public static ThrowawayMariaDb startOn(Path dataDir, Path data, List<String> extraOptions) throws IOException {
        Path dir = TempFolders.createPrivate(dataDir, "mariadb-");
        try {
            Files.move(data, dir.resolve("data"));
            return launchWithAccount(dir, dir.resolve("data"), "UPDATE mysql.global_priv SET priv = JSON_SET(priv, '$.account_locked', true) "
                    + "WHERE NOT (User = '" + USER + "' AND Host = '127.0.0.1');\nFLUSH PRIVILEGES;\n", extraOptions);
        } catch (IOException | RuntimeException e) {
            TempFolders.deleteTree(dir);
            throw e;
        }
    }

    /** Launches with an init file that creates this run's account; the file (holding the password) is deleted once the server is up. */
    private static ThrowawayMariaDb launchWithAccount(Path dir, Path data, String moreSql, List<String> extraOptions) throws IOException {
        String password = PasswordAuth.newPassword();
        Path init = dir.resolve("init.sql");
        Files.writeString(init, "CREATE OR REPLACE USER '" + USER + "'@'127.0.0.1' IDENTIFIED BY '" + password + "';\n"
                + "GRANT ALL PRIVILEGES ON *.* TO '" + USER + "'@'127.0.0.1' WITH GRANT OPTION;\n" + moreSql, StandardCharsets.UTF_8);
        List<String> options = new ArrayList<>(List.of("--init-file=" + init));
        options.addAll(extraOptions);
        try {
            return launch(dir, data, password, options);
        } finally {
            Files.deleteIfExists(init); // the password is in this process only from here on
        }
    }

    private static ThrowawayMariaDb launch(Path dir, Path data, String password, List<String> extraOptions) throws IOException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(tool("mariadbd"), "--no-defaults", "--datadir=" + data, "--user=" + System.getProperty("user.name"),
                "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mariadbd.pid"), "--port=" + port,
                "--bind-address=127.0.0.1", "--skip-name-resolve", "--log-error=" + dir.resolve("error.log"),
                "--innodb-buffer-pool-size=256M", "--max-allowed-packet=256M", "--character-set-server=utf8mb4", "--server-id=1"));
        cmd.addAll(extraOptions);
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("console.log").toFile()).start();
        ThrowawayMariaDb db = new ThrowawayMariaDb(dir, server, port, password);
        try {
            db.awaitUp();
            return db;
        } catch (IOException | RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private static String tool(String name) throws IOException {
        for (String folder : List.of("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin")) {
            Path p = Path.of(folder, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        String path = System.getenv("PATH");
        if (path != null) for (String folder : path.split(":")) if (!folder.isEmpty() && Files.isExecutable(Path.of(folder, name))) return Path.of(folder, name).toString();
        throw new IOException(name + " not found: a MariaDB drill starts a server of its own; install it (Debian: apt-get install mariadb-server)");
    }

    private static void run(List<String> cmd, Path log) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.get(0) + " did not finish in 180 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(cmd.get(0) + " interrupted");
        }
        if (p.exitValue() != 0) throw new IOException(cmd.get(0) + " failed (exit code " + p.exitValue() + "): " + tail(log));
    }

    private static String tail(Path log) {
        try {
            String text = Files.readString(log, StandardCharsets.UTF_8).strip();
            return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitUp() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) throw new IOException("mariadbd exited (code " + server.exitValue() + "): " + tail(dir.resolve("error.log")));
            try (Connection c = connect(null)) {
                return;
            } catch (SQLException e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("waiting for mariadbd");
            }
        }
        throw new IOException("mariadbd did not answer on port " + port + " in 120 s: " + (last == null ? "" : last.getMessage()) + "; "
                + tail(dir.resolve("error.log")));
    }

    /** {@code mariadb://bunker:PASSWORD@127.0.0.1:PORT/db}: full rights, for the drill's restore and checks. */
    public MariaDbUrl url(String database) {
        return new MariaDbUrl("127.0.0.1", port, database, USER, password);
    }

    /** The same as a URL string with the password in it, as {@code db restore --target} takes it (never printed). */
    /** A restore target on this server: {@code database}, or (null) the server itself, for a dump of several databases. */
    public String restoreTarget(String database) {
        return "mariadb://" + USER + ":" + password + "@127.0.0.1:" + port + (database == null ? "" : "/" + database);
    }

    public int port() { return port; }

    public Path folder() { return dir; }

    /** A JDBC connection to {@code database} (null: none). */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(url(database).jdbcUrl(database), USER, password);
    }

    @Override
    public void close() throws IOException {
        server.destroy(); // SIGTERM: mariadbd shuts down cleanly
        try {
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
                server.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            TempFolders.deleteTree(dir);
        }
    }
}
