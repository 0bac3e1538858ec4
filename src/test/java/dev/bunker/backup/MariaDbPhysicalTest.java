package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.drill.DrillRuns;
import dev.bunker.drill.ThrowawayMariaDb;
import dev.bunker.store.LocalStore;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.Unwrapped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Physical backups of a MariaDB server (mariadb-backup, on the same machine as the server, as it must run): taken while a
 * throwaway server runs, encrypted and locked like a dump, restored into a new folder, prepared, and started as a server
 * with the same rows; a corrupt copy falls over to the next store, a wrong key or a non-empty folder is refused.
 */
@Timeout(240)
class MariaDbPhysicalTest {
    @TempDir Path dir;

    static long rows(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aPhysicalBackupRestoresIntoAFolderAServerStartsOn() throws Exception {
        try (ThrowawayMariaDb source = ThrowawayMariaDb.start(dir, List.of("--log-bin=binlog", "--binlog-format=ROW"))) {
            try (Connection c = source.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.orders (id bigint auto_increment primary key, note varchar(100), payload blob)");
                s.execute("insert into shop.orders (note, payload) select concat('order ', seq), unhex(sha2(seq, 256)) from shop.seq_1_to_5000");
                s.execute("create table shop.legacy (id int primary key) engine=MyISAM");
                s.execute("insert into shop.legacy select seq from shop.seq_1_to_10");
                s.execute("create user 'phys'@'127.0.0.1' identified by 'pw-phys'");
                s.execute("grant reload, process, lock tables, binlog monitor on *.* to 'phys'@'127.0.0.1'");
            }
            String recipient = AppDatabases.ageKey(dir.resolve("key.txt"));
            BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                    Map.of("shop", new BackupSource("shop", "mariadb://phys@127.0.0.1:" + source.port() + "/shop", null, "pw-phys")),
                    new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                    new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false);
            try (Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b), Clock.systemUTC());
                 Backups backups = Engine.backups(bunker)) {
                Manifest m = backups.take().run("shop", "base");
                assertThat(m.isBase()).isTrue();
                assertThat(m.isMariaDb()).isTrue();
                assertThat(m.format()).startsWith("mariadb-backup ");
                assertThat(m.binlog()).isNotNull();
                assertThat(m.binlog().file()).startsWith("binlog.");
                assertThat(backups.restore().find("latest", "shop", true).id()).isEqualTo(m.id());

                List<String> ids = AgeCrypto.readIdentities(dir.resolve("key.txt"));
                Path vaultCopy = ((LocalStore) Unwrapped.of(bunker.store("vault"))).pathOf(m.dataKey());
                byte[] bytes = Files.readAllBytes(vaultCopy);
                bytes[bytes.length / 2] ^= 0x01;
                Files.write(vaultCopy, bytes); // the first store's copy is corrupt: the shelter's is used
                Path restored = dir.resolve("restored");
                RestoreBackup.BaseResult r = backups.restore().runBase(m, restored, ids, line -> {});
                assertThat(r.store()).isEqualTo("shelter");
                assertThat(r.files()).isPositive();
                assertThat(restored.resolve("shop")).isDirectory();

                assertThatThrownBy(() -> backups.restore().runBase(m, restored, ids, line -> {})).hasMessageContaining("not empty");
                Path other = dir.resolve("other.txt");
                AppDatabases.ageKey(other);
                assertThatThrownBy(() -> backups.restore().runBase(m, dir.resolve("wrong-key"), AgeCrypto.readIdentities(other), line -> {}))
                        .hasMessageContaining("unable to decrypt");

                try (ThrowawayMariaDb copy = ThrowawayMariaDb.startOn(dir, restored, List.of());
                     Connection c = copy.connect("shop"); Connection original = source.connect("shop")) {
                    assertThat(rows(c, "select count(*) from orders")).isEqualTo(5000);
                    assertThat(rows(c, "select count(*) from legacy")).isEqualTo(10);
                    assertThat(rows(c, "select sum(crc32(payload)) from orders")).isEqualTo(rows(original, "select sum(crc32(payload)) from orders"));
                    // The copy's production accounts are locked: the source's password does not open it.
                    assertThatThrownBy(() -> java.sql.DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + copy.port() + "/", "phys", "pw-phys").close())
                            .isInstanceOf(java.sql.SQLException.class).hasMessageContaining("locked");
                }
            }
        }
    }

    @Test
    void aTargetOnAFullDiskBlamesThisMachinesDiskNotTheBackup() throws Exception {
        try (ThrowawayMariaDb source = ThrowawayMariaDb.start(dir, List.of())) {
            try (Connection c = source.connect(null); Statement s = c.createStatement()) {
                s.execute("create user 'phys'@'127.0.0.1' identified by 'pw-phys'");
                s.execute("grant reload, process, lock tables, binlog monitor on *.* to 'phys'@'127.0.0.1'");
            }
            BackupsConfig b = new BackupsConfig(List.of(AppDatabases.ageKey(dir.resolve("key.txt"))), List.of("vault", "shelter"),
                    Map.of("shop", new BackupSource("shop", "mariadb://phys@127.0.0.1:" + source.port() + "/mysql", null, "pw-phys")),
                    BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false);
            try (Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b), Clock.systemUTC());
                 Backups backups = Engine.backups(bunker)) {
                Manifest m = backups.take().run("shop", "base");
                List<String> ids = AgeCrypto.readIdentities(dir.resolve("key.txt"));
                Path small = dir.resolve("small-disk");
                try (var full = dev.bunker.testing.Mounts.smallDisk(small, "1m")) { // the server's files are tens of MB
                    Path onSmall = small.resolve("restored");
                    // Before: "vault: the copy is corrupt or truncated (mbstream failed ... No space left on device)", and the shelter tried.
                    assertThatThrownBy(() -> backups.restore().runBase(m, onSmall, ids, line -> {})).hasMessageContaining("unable to write " + onSmall)
                            .hasMessageContaining("No space left on device").hasMessageContaining("the copy in store 'vault' was not at fault")
                            .hasMessageNotContaining("corrupt").hasMessageNotContaining("shelter");
                    try (var left = Files.walk(small)) {
                        assertThat(left.filter(Files::isRegularFile).toList()).as("what mbstream wrote is gone").isEmpty();
                    }
                }
                assertThat(backups.restore().runBase(m, dir.resolve("roomy"), ids, line -> {}).store()).as("the copy was fine").isEqualTo("vault");
            }
        }
    }

    @Test
    void theDrillStartsAServerOnTheNewestPhysicalBackupAndACorruptBackupFailsIt() throws Exception {
        try (ThrowawayMariaDb source = ThrowawayMariaDb.start(dir, List.of())) {
            try (Connection c = source.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.events (id bigint auto_increment primary key, created_at datetime(6) not null)");
                s.execute("insert into shop.events (created_at) select utc_timestamp(6) - interval seq second from shop.seq_1_to_2000");
                s.execute("create table shop.`odd name` (id int primary key)");
                s.execute("create user 'phys'@'127.0.0.1' identified by 'pw-phys'");
                s.execute("grant reload, process, lock tables, binlog monitor on *.* to 'phys'@'127.0.0.1'");
            }
            Path key = dir.resolve("key.txt");
            String recipient = AppDatabases.ageKey(key);
            BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                    Map.of("shop", new BackupSource("shop", "mariadb://phys@127.0.0.1:" + source.port() + "/shop", null, "pw-phys", null, null,
                            Duration.ofDays(1))),
                    new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                    new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false);
            assertThat(b.every("shop", "physical")).isEqualTo(Duration.ofDays(1)); // scheduled by serve like the dumps
            DrillsConfig drills = new DrillsConfig(Duration.ofDays(1), key, "shop", "shop.events.created_at", Duration.ofDays(2),
                    List.of("select count(*) = 2000 from events"), Duration.ofDays(1), 50);
            try (Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(drills, AlertsConfig.DEFAULTS),
                    Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
                Manifest m = engine.backups().take().run("shop", "physical");
                assertThat(m.isBase()).isTrue();
                DrillRuns.Run run = engine.drills().database().runPhysical("shop");
                assertThat(run.ok()).as(run.log()).isTrue();
                assertThat(run.kind()).isEqualTo("db-physical"); // kept apart from the dump drills, so neither hides the other
                assertThat(run.backupId()).isEqualTo(m.id());
                assertThat(run.restoreSeconds()).isPositive();
                assertThat(run.checks()).extracting(DrillRuns.Check::name).containsExactly("restore", "start a server on the restored files",
                        "every table readable", "freshness of shop.events.created_at", "sql: select count(*) = 2000 from events");
                assertThat(run.log()).contains("2 tables of shop, 2000 rows");
                assertThat(dir.resolve("data/tmp")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("mariadb-")
                        || p.getFileName().toString().startsWith("drill-physical-"));

                for (String store : List.of("vault", "shelter")) {
                    Path file = ((LocalStore) Unwrapped.of(bunker.store(store))).pathOf(m.dataKey());
                    byte[] bytes = Files.readAllBytes(file);
                    bytes[bytes.length / 3] ^= 0x08;
                    Files.write(file, bytes);
                }
                DrillRuns.Run corrupt = engine.drills().database().runPhysical("shop");
                assertThat(corrupt.ok()).isFalse();
                assertThat(corrupt.log()).contains("FAIL restore and start").contains("could not be read whole from any backup store");
                assertThat(dir.resolve("data/tmp")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("drill-physical-"));
            }
        }
    }
}
