package dev.bunker.drill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.testing.MariaDbFixture;
import dev.bunker.testing.TestConfigs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database drill of a MariaDB source: it starts a MariaDB server of its own, restores the newest dump from the stores
 * into it, checks row counts, freshness and SQL, and records RPO and RTO; a wrong key or a corrupt copy fails it with the
 * reason. Also: a source with the binary log on gets the dump's position in the log in its manifest.
 */
@Timeout(240)
class MariaDbDrillTest {
    @TempDir Path dir;
    MariaDbFixture source;
    Bunker bunker;
    Engine engine;

    @AfterEach
    void tearDown() throws Exception {
        if (engine != null) engine.close();
        if (bunker != null) bunker.close();
        if (source != null) source.close();
    }

    String recipient(Path key) throws Exception {
        Process p = new ProcessBuilder("age-keygen", "-o", key.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return Files.readAllLines(key).stream().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow().substring(14);
    }

    BackupsConfig backups(String recipient, String url, String password) {
        return new BackupsConfig(List.of(recipient), List.of("vault", "shelter"), Map.of("shop", new BackupSource("shop", url, null, password)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false);
    }

    void open(BunkerConfig config) {
        if (engine != null) engine.close();
        if (bunker != null) bunker.close();
        bunker = Bunker.open(config, Clock.systemUTC());
        engine = Engine.on(bunker);
    }

    @Test
    void theDrillRestoresIntoAThrowawayMariaDbAndAWrongKeyOrACorruptCopyFailsIt() throws Exception {
        source = MariaDbFixture.create();
        try (Connection c = source.admin(); Statement s = c.createStatement()) {
            s.execute("create table events (id bigint auto_increment primary key, kind varchar(20), created_at datetime(6) not null)");
            s.execute("insert into events (kind, created_at) select if(seq % 2, 'a', 'b'), utc_timestamp(6) - interval seq second from seq_1_to_3000");
        }
        Path key = dir.resolve("key.txt");
        String recipient = recipient(key);
        BunkerConfig base = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(backups(recipient, source.url(), source.password));
        DrillsConfig drills = new DrillsConfig(Duration.ofDays(1), key, "shop", source.database + ".events.created_at", Duration.ofDays(2),
                List.of("select count(*) = 1500 from events where kind = 'a'"), Duration.ofDays(1), 50);
        open(base.withDrills(drills, AlertsConfig.DEFAULTS));
        Manifest m = engine.backups().take().run("shop", "dump");
        try (Connection c = bunker.database().connection()) {
            c.createStatement().execute("truncate backups"); // the drill must not need Bunker's catalog
        }
        DrillRuns.Run run = engine.drills().database().run("shop");
        assertThat(run.ok()).as(run.log()).isTrue();
        assertThat(run.backupId()).isEqualTo(m.id());
        assertThat(run.restoreSeconds()).isPositive();
        assertThat(run.backupAgeSeconds()).isBetween(0.0, 600.0);
        assertThat(run.checks()).extracting(DrillRuns.Check::name).containsExactly("restore", "every table readable, row counts as recorded",
                "freshness of " + source.database + ".events.created_at", "sql: select count(*) = 1500 from events where kind = 'a'");
        assertThat(run.log()).contains("throwaway MariaDB on port").contains("1 tables match");
        assertThat(engine.drills().lastSuccesses().get("db")).isNotNull();
        assertThat(dir.resolve("data/tmp")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("mariadb-"));

        Path otherKey = dir.resolve("other.txt");
        recipient(otherKey);
        open(base.withDrills(new DrillsConfig(Duration.ofDays(1), otherKey, "shop", null, Duration.ofDays(2), List.of(), Duration.ofDays(1), 50),
                AlertsConfig.DEFAULTS));
        DrillRuns.Run wrongKey = engine.drills().database().run("shop");
        assertThat(wrongKey.ok()).isFalse();
        assertThat(wrongKey.log()).contains("FAIL restore").contains("unable to decrypt");

        for (String store : List.of("vault", "shelter")) {
            Path file = ((LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store(store))).pathOf(m.dataKey());
            byte[] b = Files.readAllBytes(file);
            b[b.length / 3] ^= 0x08;
            Files.write(file, b);
        }
        open(base.withDrills(new DrillsConfig(Duration.ofDays(1), key, "shop", null, Duration.ofDays(2), List.of(), Duration.ofDays(1), 50),
                AlertsConfig.DEFAULTS));
        DrillRuns.Run corrupt = engine.drills().database().run("shop");
        assertThat(corrupt.ok()).isFalse();
        assertThat(corrupt.log()).contains("FAIL restore").contains("vault: the copy is corrupt").contains("shelter: the copy is corrupt");
    }

    @Test
    void withTheBinaryLogOnTheManifestRecordsTheDumpsPositionInIt() throws Exception {
        try (ThrowawayMariaDb server = ThrowawayMariaDb.start(dir, List.of("--log-bin=binlog", "--binlog-format=ROW"))) {
            try (Connection c = server.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.t (id int primary key)");
                s.execute("insert into shop.t select seq from shop.seq_1_to_100");
                s.execute("create user 'bk'@'127.0.0.1' identified by 'pw-bk'");
                s.execute("grant select, show view, trigger, event, lock tables on shop.* to 'bk'@'127.0.0.1'");
                s.execute("grant select on mysql.proc to 'bk'@'127.0.0.1'");
                s.execute("grant binlog monitor on *.* to 'bk'@'127.0.0.1'");
            }
            String expectedFile;
            long expectedPos;
            try (Connection c = server.connect(null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show master status")) {
                rs.next();
                expectedFile = rs.getString(1);
                expectedPos = rs.getLong(2);
            }
            Path key = dir.resolve("key.txt");
            open(TestConfigs.threeLocalStores(dir.resolve("data"))
                    .withBackups(backups(recipient(key), "mariadb://bk@127.0.0.1:" + server.port() + "/shop", "pw-bk")));
            Manifest m = engine.backups().take().run("shop", "dump");
            assertThat(m.rowCounts()).containsExactly(Map.entry("`t`", 100L));
            assertThat(m.binlog()).isNotNull();
            assertThat(m.binlog().file()).isEqualTo(expectedFile);
            assertThat(m.binlog().position()).isEqualTo(expectedPos); // nothing was written since
            assertThat(m.binlog().gtid()).matches("0-1-\\d+");
        }
    }
}
