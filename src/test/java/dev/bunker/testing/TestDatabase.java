package dev.bunker.testing;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A real PostgreSQL for tests: one embedded server per test JVM (or the server named by
 * BUNKER_TEST_DATABASE_URL, e.g. jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres),
 * with a fresh database per caller so tests never see each other's rows.
 */
public final class TestDatabase {
    private static String adminUrl;
    private static String user;

    private TestDatabase() {}

    private static synchronized void start() {
        if (adminUrl != null) return;
        String external = System.getenv("BUNKER_TEST_DATABASE_URL");
        if (external != null) {
            adminUrl = external;
            return;
        }
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "300").start();
            adminUrl = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            user = "postgres";
        } catch (IOException e) {
            throw new IllegalStateException("unable to start the embedded PostgreSQL for tests", e);
        }
    }

    /** A new, empty database. */
    public static DatabaseConfig fresh() {
        start();
        String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = DriverManager.getConnection(adminUrl, user, null); Statement s = c.createStatement()) {
            s.execute("create database " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        String base = adminUrl.substring(0, adminUrl.lastIndexOf('/') + 1);
        String query = adminUrl.contains("?") ? adminUrl.substring(adminUrl.indexOf('?')) : "";
        return new DatabaseConfig(base + name + query, user, null, 8);
    }
}
