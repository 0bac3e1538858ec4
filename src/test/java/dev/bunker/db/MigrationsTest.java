package dev.bunker.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Opening the database skips Flyway only when the schema is at the newest migration, and that newest one is the constant's. */
@Timeout(120)
class MigrationsTest {
    @TempDir Path dir;

    @Test
    void theConstantIsTheNewestMigrationFile() throws Exception {
        int newest;
        try (var files = Files.list(Path.of("src/main/resources/db/migration"))) {
            newest = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .mapToInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__")))).max().orElseThrow();
        }
        assertThat(Database.LATEST_MIGRATION).as("update Database.LATEST_MIGRATION with each new migration").isEqualTo(newest);
    }

    @Test
    void aSchemaBehindTheNewestIsMigratedOnOpen() throws Exception {
        var config = TestDatabase.fresh();
        try (var ds = new com.zaxxer.hikari.HikariDataSource()) {
            ds.setJdbcUrl(config.url());
            if (config.user() != null) ds.setUsername(config.user());
            ds.addDataSourceProperty("currentSchema", Database.SCHEMA);
            // An older Bunker's schema: every migration but the newest.
            org.flywaydb.core.Flyway.configure().dataSource(ds).schemas(Database.SCHEMA).createSchemas(true).locations("classpath:db/migration")
                    .target(org.flywaydb.core.api.MigrationVersion.fromVersion(Integer.toString(Database.LATEST_MIGRATION - 1))).load().migrate();
            assertThat(Database.appliedVersion(ds)).isEqualTo(Database.LATEST_MIGRATION - 1);
        }
        try (Database db = Database.open(config, dir); Connection c = db.connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select max(version::int) from flyway_schema_history where success")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the newest migration ran on open").isEqualTo(Database.LATEST_MIGRATION);
            assertThat(Database.appliedVersion(db.dataSource())).isEqualTo(Database.LATEST_MIGRATION);
        }
    }

    @Test
    void aSchemaANewerBunkerMigratedIsRefusedNotUsed() throws Exception {
        var config = TestDatabase.fresh();
        try (Database db = Database.open(config, dir); Connection c = db.connection(); Statement s = c.createStatement()) {
            s.execute("insert into flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) "
                    + "values (1000, '" + (Database.LATEST_MIGRATION + 1) + "', 'from the future', 'SQL', 'V" + (Database.LATEST_MIGRATION + 1)
                    + "__future.sql', 0, current_user, 1, true)");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Database.open(config, dir).close())
                .hasMessageContaining("newer than this Bunker's (" + Database.LATEST_MIGRATION + ")");
    }
}
