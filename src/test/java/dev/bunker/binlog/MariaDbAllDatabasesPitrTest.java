package dev.bunker.binlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.drill.ThrowawayMariaDb;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery of a MariaDB source of every database ({@code all-databases: true} with {@code binlog}): a DELETE
 * in each of two databases is undone by a restore to the second before, each database replayed on its own; a log that
 * changes a database the dump does not hold is refused before anything is written.
 */
@Timeout(300)
class MariaDbAllDatabasesPitrTest {
    @TempDir Path dir;

    static long count(ThrowawayMariaDb server, String table, String where) throws Exception {
        try (Connection c = server.connect(null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from " + table + " " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void deletesInTwoDatabasesAreUndoneAndALaterDatabaseIsRefused() throws Exception {
        try (ThrowawayMariaDb server = ThrowawayMariaDb.start(dir, List.of("--log-bin=binlog", "--binlog-format=ROW"));
             ThrowawayMariaDb other = ThrowawayMariaDb.start(dir, List.of())) {
            try (Connection c = server.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.orders (id bigint auto_increment primary key, note varchar(100) not null)");
                s.execute("insert into shop.orders (note) select concat('before ', seq) from shop.seq_1_to_200");
                s.execute("create database crm");
                s.execute("create table crm.contacts (id bigint auto_increment primary key, who varchar(100) not null)");
                s.execute("insert into crm.contacts (who) select concat('before ', seq) from crm.seq_1_to_100");
                s.execute("create user 'bk'@'127.0.0.1' identified by 'pw-bk'");
                s.execute("grant select, show view, trigger, event, lock tables on *.* to 'bk'@'127.0.0.1'");
                s.execute("grant binlog monitor, replication slave on *.* to 'bk'@'127.0.0.1'");
            }
            String recipient = AppDatabases.ageKey(dir.resolve("key.txt"));
            Path file = ConfigFiles.write(dir, TestDatabase.fresh(), """
                    data-dir: %s
                    backups:
                      recipients: ["%s"]
                      stores: [vault, shelter]
                      sources:
                        shop: {url: "mariadb://bk@127.0.0.1:%d", password: pw-bk, all-databases: true, binlog: {flush-every: 300ms}}
                    """.formatted(dir.resolve("data"), recipient, server.port()));
            BunkerConfig config = ConfigLoader.load(file, ConfigLoader.Overrides.NONE);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Engine engine = Engine.on(bunker);
                 BinlogStreams streams = engine.binlogStreams()) {
                streams.start();
                var dump = engine.backups().take().run("shop", "dump");
                assertThat(dump.allDatabases()).isTrue();
                assertThat(dump.binlog()).isNotNull();
                try (Connection c = server.connect(null); Statement s = c.createStatement()) {
                    s.execute("insert into shop.orders (note) select concat('after ', seq) from shop.seq_1_to_50");
                    s.execute("use crm");
                    s.execute("insert into contacts (who) values ('after the dump, in crm')"); // a statement naming no database
                    s.execute("flush binary logs");
                    s.execute("update shop.orders set note = 'changed' where id = 1");
                }
                Instant target = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(2);
                while (Instant.now().isBefore(target.plusMillis(100))) Thread.sleep(50);
                try (Connection c = server.connect(null); Statement s = c.createStatement()) {
                    s.execute("delete from shop.orders where id % 2 = 0"); // the mistakes, at or after target
                    s.execute("delete from crm.contacts");
                    s.execute("create database late");
                    s.execute("create table late.t (x int)");
                    s.execute("insert into late.t values (1)");
                }
                MariaDbPitrTest.awaitStored(bunker, server, ManifestTrust.of(List.of(), config.dataDir()));

                BinlogRestore restore = new BinlogRestore(config.backups(), bunker.stores(), engine.backups().restore(), config.dataDir());
                List<String> ids = AgeCrypto.readIdentities(dir.resolve("key.txt"));
                // To the end of the stored log: it creates and fills `late`, which the dump does not hold.
                assertThatThrownBy(() -> restore.run("shop", null, other.restoreTarget(null), ids, false, l -> {}))
                        .hasMessageContaining("changes database(s) [late]").hasMessageContaining("Nothing was restored");
                try (Connection c = other.connect(null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show databases like 'shop'")) {
                    assertThat(rs.next()).as("nothing was written").isFalse();
                }
                BinlogRestore.Result r = restore.run("shop", target, other.restoreTarget(null), ids, false, l -> {});
                assertThat(r.dump()).isEqualTo(dump.id());
                assertThat(count(other, "shop.orders", "")).isEqualTo(250);
                assertThat(count(other, "shop.orders", "where note = 'changed'")).isEqualTo(1);
                assertThat(count(other, "crm.contacts", "")).isEqualTo(101);
                assertThat(count(other, "crm.contacts", "where who = 'after the dump, in crm'")).isEqualTo(1);
            }
        }
    }
}
