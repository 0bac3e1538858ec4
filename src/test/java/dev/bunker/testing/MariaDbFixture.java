package dev.bunker.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A database of its own on the machine's MariaDB (127.0.0.1:3306, root without a password, as on CI; MARIADB_TEST_URL as
 * jdbc:mariadb://HOST:PORT/, MARIADB_TEST_USER and MARIADB_TEST_PASSWORD choose another), with a backup user that only reads
 * it, dropped on close. Without such a server, the tests share one {@link ThrowawayMariaDb} of their own.
 */
public final class MariaDbFixture implements AutoCloseable {
    private static final Server S = Server.find();
    public static final String SERVER = S.url;
    public static final String ADMIN = S.user;

    public final String database;
    public final String user;
    public final String password;

    private MariaDbFixture(String database, String user, String password) {
        this.database = database;
        this.user = user;
        this.password = password;
    }

    /** A new empty database and a user granted what the README asks for a backup user. */
    public static MariaDbFixture create() throws SQLException {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        MariaDbFixture f = new MariaDbFixture("bunker_t_" + suffix, "bk_" + suffix, "pw-" + UUID.randomUUID());
        try (Connection c = admin(null); Statement s = c.createStatement()) {
            s.execute("create database " + f.database);
            s.execute("create user '" + f.user + "'@'127.0.0.1' identified by '" + f.password + "'");
            s.execute("grant select, show view, trigger, event, lock tables on " + f.database + ".* to '" + f.user + "'@'127.0.0.1'");
            s.execute("grant select on mysql.proc to '" + f.user + "'@'127.0.0.1'");
        }
        return f;
    }

    /** A root connection to {@code db} (null: none). */
    public static Connection admin(String db) throws SQLException {
        return DriverManager.getConnection(SERVER + (db == null ? "" : db), ADMIN, S.password);
    }

    public Connection admin() throws SQLException {
        return admin(database);
    }

    /** The source URL, password apart (as a config holds it). */
    public String url() {
        return SERVER.replace("jdbc:mariadb://", "mariadb://" + user + "@") + database;
    }

    /** A URL for a restore target on the same server as root (a database name of {@code db}). */
    public static String adminUrl(String db) {
        String pw = S.password;
        return SERVER.replace("jdbc:mariadb://", "mariadb://" + ADMIN + (pw == null ? "" : ":" + pw) + "@") + db;
    }

    /** The admin's login as the mariadb client takes it ({@code -h HOST -P PORT -u USER}; the password goes in MYSQL_PWD: {@link #clientEnv}). */
    public static String clientArgs() {
        java.net.URI u = java.net.URI.create(SERVER.substring("jdbc:".length()));
        return "--no-defaults --protocol=TCP -h " + u.getHost() + " -P " + (u.getPort() < 0 ? 3306 : u.getPort()) + " -u " + ADMIN;
    }

    public static java.util.Map<String, String> clientEnv() {
        return S.password == null ? java.util.Map.of() : java.util.Map.of("MYSQL_PWD", S.password);
    }

    /** Drops a database made by a test (the restore targets). */
    public static void drop(String db) throws SQLException {
        try (Connection c = admin(null); Statement s = c.createStatement()) {
            s.execute("drop database if exists `" + db + "`");
        }
    }

    private record Server(String url, String user, String password) {
        static Server find() {
            Server given = new Server(System.getenv().getOrDefault("MARIADB_TEST_URL", "jdbc:mariadb://127.0.0.1:3306/"),
                    System.getenv().getOrDefault("MARIADB_TEST_USER", "root"), System.getenv("MARIADB_TEST_PASSWORD"));
            try (Connection c = DriverManager.getConnection(given.url + "?connectTimeout=2000", given.user, given.password)) {
                return given;
            } catch (SQLException none) {
                try {
                    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("bunker-test-mariadb-");
                    dev.bunker.drill.ThrowawayMariaDb own = dev.bunker.drill.ThrowawayMariaDb.start(dir, java.util.List.of());
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            own.close();
                            dev.bunker.backup.TempFolders.deleteTree(dir);
                        } catch (java.io.IOException ignored) {
                            // the folder is in /tmp
                        }
                    }));
                    dev.bunker.mariadb.MariaDbUrl u = own.url(null);
                    return new Server("jdbc:mariadb://127.0.0.1:" + u.port() + "/", u.user(), u.password());
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("no MariaDB at " + given.url + " (" + none.getMessage() + ") and none could be started: " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = admin(null); Statement s = c.createStatement()) {
            s.execute("drop database if exists " + database);
            s.execute("drop user if exists '" + user + "'@'127.0.0.1'");
        }
    }
}
