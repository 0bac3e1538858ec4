package dev.bunker.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A database of its own on the machine's MariaDB (127.0.0.1:3306, root without a password, as on CI; MARIADB_TEST_URL
 * overrides as jdbc:mariadb://HOST:PORT/), with a backup user that only reads it, dropped on close.
 */
public final class MariaDbFixture implements AutoCloseable {
    public static final String SERVER = System.getenv().getOrDefault("MARIADB_TEST_URL", "jdbc:mariadb://127.0.0.1:3306/");
    public static final String ADMIN = System.getenv().getOrDefault("MARIADB_TEST_USER", "root");

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
        return DriverManager.getConnection(SERVER + (db == null ? "" : db), ADMIN, System.getenv("MARIADB_TEST_PASSWORD"));
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
        String pw = System.getenv("MARIADB_TEST_PASSWORD");
        return SERVER.replace("jdbc:mariadb://", "mariadb://" + ADMIN + (pw == null ? "" : ":" + pw) + "@") + db;
    }

    /** Drops a database made by a test (the restore targets). */
    public static void drop(String db) throws SQLException {
        try (Connection c = admin(null); Statement s = c.createStatement()) {
            s.execute("drop database if exists `" + db + "`");
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
