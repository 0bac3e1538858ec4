package dev.bunker.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL servers Bunker runs itself trust nobody: a local process that connects without the
 * password (or with a wrong one) is refused, so it can neither rewrite the ledger nor read a drill's
 * restored production data. The password sits in a file only Bunker's user can read.
 */
@Timeout(120)
class EmbeddedDatabaseAuthTest {
    @TempDir Path dir;

    @Test
    void theEmbeddedLedgerDatabaseRefusesConnectionsWithoutThePassword() throws Exception {
        try (Database db = Database.open(new DatabaseConfig(null, null, null, 2), dir)) {
            Path secret = dir.resolve(EmbeddedPostgresServer.PASSWORD_FILE);
            assertThat(Files.getPosixFilePermissions(secret)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            String url = db.url();
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", null)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("password");
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "guess")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("password authentication failed");
            try (Connection c = DriverManager.getConnection(url, "postgres", Files.readString(secret).trim());
                 ResultSet rs = c.createStatement().executeQuery("select count(*) from bunker.objects")) {
                assertThat(rs.next()).isTrue();
            }
            // A second command on the same data dir attaches with the same secret.
            try (Database attached = Database.open(new DatabaseConfig(null, null, null, 2), dir)) {
                attached.ping();
            }
        }
        // Restarted, the server still requires it.
        try (Database again = Database.open(new DatabaseConfig(null, null, null, 2), dir)) {
            String url = again.url();
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", null)).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void aThrowawayServerForADrillAcceptsOnlyItsOwnPassword() throws Exception {
        String password = PasswordAuth.newPassword();
        try (EmbeddedPostgres pg = PasswordAuth.builder(dir.resolve("drill-pg"), password).setCleanDataDirectory(true).start()) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", null)).isInstanceOf(SQLException.class);
            try (Connection c = DriverManager.getConnection(url, "postgres", password)) {
                assertThat(c.isValid(2)).isTrue();
            }
        }
    }
}
