package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
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

                try (ThrowawayMariaDb copy = ThrowawayMariaDb.startOn(dir, restored, source.url(null).password(), List.of());
                     Connection c = copy.connect("shop"); Connection original = source.connect("shop")) {
                    assertThat(rows(c, "select count(*) from orders")).isEqualTo(5000);
                    assertThat(rows(c, "select count(*) from legacy")).isEqualTo(10);
                    assertThat(rows(c, "select sum(crc32(payload)) from orders")).isEqualTo(rows(original, "select sum(crc32(payload)) from orders"));
                }
            }
        }
    }
}
