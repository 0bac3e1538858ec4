package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streamed scrub at its edges, on a real PostgreSQL backup: a load refused by the server midway leaves nothing behind,
 * and tables whose rows the dump keeps elsewhere (partitions) are scrubbed in the database instead, with the same result.
 */
@Timeout(180)
class StreamedCloneTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    DatabaseConfig app;
    String server;
    Path key;
    Bunker bunker;
    Backups backups;
    Manifest backup;
    final List<String> phases = new ArrayList<>();
    final String prefix = "sclone_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8) + "_";

    @BeforeEach
    void setUp() throws Exception {
        app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("""
                    create table people (id int primary key, email text not null, note text, check (id < 40000 or note <> 'scrubbed'));
                    insert into people select g, 'p' || g || '@real.example', 'note ' || g from generate_series(1, 50000) g;
                    create table events (id int, email text) partition by range (id);
                    create table events_a partition of events for values from (0) to (100);
                    create table events_b partition of events for values from (100) to (1000);
                    insert into events select g, 'e' || g || '@real.example' from generate_series(1, 500) g;
                    """);
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        key = dir.resolve("age.txt");
        String recipient = AppDatabases.ageKey(key);
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false, List.of(), BackupsConfig.KEEP_NEWEST);
        bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b), clock);
        backups = Engine.backups(bunker);
        backup = backups.take().run("app", "dump");
        server = "postgresql://postgres@" + app.url().substring("jdbc:postgresql://".length(), app.url().lastIndexOf('/') + 1);
    }

    @AfterEach
    void tearDown() {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
    }

    CloneDatabase.Result clone(String target, String yaml) throws Exception {
        Path hashKey = dir.resolve("hash.key"); // one key for every clone of the test: the same value gives the same hash
        if (!Files.exists(hashKey)) {
            Files.writeString(hashKey, "a stable key for these clones, 32+ bytes");
            Files.setPosixFilePermissions(hashKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
        Path f = dir.resolve("scrub-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, "hash-key-file: hash.key\n" + yaml);
        return new CloneDatabase(backups.restore(), null, clock).run(backup, server + target, ScrubFile.read(f), AgeCrypto.readIdentities(key), false,
                false, line -> {}, phases::add);
    }

    Connection connect(String db) throws Exception {
        return DriverManager.getConnection(app.url().substring(0, app.url().lastIndexOf('/') + 1) + db, "postgres", null);
    }

    List<String> column(String db, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /** The partitions' rows scrubbed where the dump keeps them; the parent holds none of its own. */
    static final String PARTITIONS = """
            public.events.email: keep
            public.events_a.email: hash
            public.events_b.email: hash
            """;

    @Test
    void aLoadTheServerRefusesMidwayDropsThePrivateDatabase() throws Exception {
        String target = prefix + "refused";
        // Rows from 40,000 on break the table's CHECK once scrubbed: the server refuses the COPY after taking many rows.
        assertThatThrownBy(() -> clone(target, "public.people.email: hash\npublic.people.note: {constant: scrubbed}\n" + PARTITIONS))
                .isInstanceOf(CloneException.class).hasMessageContaining("people_check").hasMessageContaining("private database was dropped");
        assertThat(column("postgres", "select datname from pg_database where datname like '" + prefix + "%'")).isEmpty();
        assertThat(phases).contains("restoring the data: 3 table(s) scrubbed as they load (COPY), the rest with pg_restore");
    }

    @Test
    void partitionedTablesAreScrubbedInTheDatabaseWithTheSameGuarantees() throws Exception {
        String target = prefix + "parts";
        CloneDatabase.Result r = clone(target, "public.people.email: hash\n" + PARTITIONS.replace("events.email: keep", "events.email: hash"));
        assertThat(phases).contains("scrubbing in the database after the load: public.events is partitioned or has child tables");
        assertThat(r.seconds()).containsKeys("data", "scrub+verify");
        assertThat(column(target, "select count(*) from events where email like '%@real.example'")).containsExactly("0");
        assertThat(column(target, "select count(*) from people where email like '%@real.example'")).containsExactly("0");
        assertThat(column(target, "select count(*) from events")).containsExactly("500");
        // Without the partitioned table, the same backup streams.
        phases.clear();
        CloneDatabase.Result streamed = clone(prefix + "people", "public.people.email: hash\n" + PARTITIONS);
        assertThat(streamed.seconds()).containsKey("data+scrub");
        assertThat(column(prefix + "people", "select count(*) from people where email like '%@real.example'")).containsExactly("0");
        assertThat(column(prefix + "people", "select email from people where id = 7")).isEqualTo(column(target, "select email from people where id = 7"));
        // events_a and events_b streamed as plain tables; their rows are still seen through the parent.
        assertThat(column(prefix + "people", "select count(*) from events where email like '%@real.example'")).containsExactly("0");
        assertThat(column(prefix + "people", "select count(*) from events")).containsExactly("500");
    }

    @Test
    void paddedCharColumnsAreComparedAndHashedWithoutTheirPaddingAsInTheDatabase() throws Exception {
        List<String> pool = FakePool.of(ScrubRule.Kind.FAKE_NAME);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table cards (id int primary key, holder_name character(40) not null, code character(20) not null unique)");
            // Most of the fake-name pool is among the originals: the pool must leave them out although COPY prints them padded.
            StringBuilder insert = new StringBuilder("insert into cards values ");
            for (int i = 0; i < 4000; i++) {
                insert.append(i == 0 ? "" : ", ").append("(").append(i).append(", '").append(pool.get(i).replace("'", "''")).append("', 'A")
                        .append(i).append("' || ").append(i % 2 == 0 ? "''" : "chr(9)").append(")"); // a trailing tab is part of the value
            }
            s.execute(insert.toString());
        }
        clock.advance(Duration.ofMinutes(1)); // a backup of its own (backups are named by the second)
        backup = backups.take().run("app", "dump");
        String yaml = "public.people.email: hash\n" + PARTITIONS + "public.cards.holder_name: fake-name\npublic.cards.code: hash\n";
        clone(prefix + "cards", yaml);
        assertThat(phases).contains("restoring the data: 4 table(s) scrubbed as they load (COPY), the rest with pg_restore");
        List<String> names = column(prefix + "cards", "select distinct rtrim(holder_name) from cards");
        assertThat(names).isNotEmpty().doesNotContainAnyElementsOf(pool.subList(0, 4000));
        assertThat(column(prefix + "cards", "select count(distinct code) from cards")).containsExactly("4000");
        // The same as the in-database scrub gives (::text drops the padding, and only the padding).
        Path f = dir.resolve("scrub-db.yaml");
        Files.writeString(f, "hash-key-file: hash.key\n" + yaml);
        new CloneDatabase(backups.restore(), null, clock).scrubbingInDatabase().run(backup, server + prefix + "cards_db", ScrubFile.read(f),
                AgeCrypto.readIdentities(key), false, false, line -> {}, line -> {});
        String codes = "select id || ' ' || code || ' ' || holder_name from cards order by id";
        assertThat(column(prefix + "cards", codes)).isEqualTo(column(prefix + "cards_db", codes));
    }
}
