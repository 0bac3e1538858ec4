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
    void aSchemaBehindTheNewestIsMigratedAndOneAtItIsLeftAlone() throws Exception {
        var config = TestDatabase.fresh();
        try (Database db = Database.open(config, dir)) {
            assertThat(Database.atLatest(db.dataSource())).isTrue();
            try (Connection c = db.connection(); Statement s = c.createStatement()) {
                // As if the newest migration had not run: its column gone, its history row too.
                s.execute("alter table wal_streams drop column mode");
                s.execute("delete from flyway_schema_history where version = '" + Database.LATEST_MIGRATION + "'");
            }
            assertThat(Database.atLatest(db.dataSource())).isFalse();
        }
        try (Database db = Database.open(config, dir); Connection c = db.connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from information_schema.columns where table_name = 'wal_streams' and column_name = 'mode'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the missing migration ran on open").isEqualTo(1);
        }
    }
}
