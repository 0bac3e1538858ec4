package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.drill.DrillRuns;
import dev.bunker.drill.ThrowawayMariaDb;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.TestConfigs;
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
 * A MariaDB source of every database of its server ({@code all-databases: true}): one dump holds each database (not the
 * server's own schemas) with its row counts, restores into another server under the same names, refuses a target that
 * already holds one of them, and drills; a backup user that may not read every database is refused rather than dumped
 * without some.
 */
@Timeout(240)
class MariaDbAllDatabasesTest {
    @TempDir Path dir;

    static long count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void everyDatabaseIsDumpedRestoredUnderItsNameAndDrilled() throws Exception {
        try (ThrowawayMariaDb source = ThrowawayMariaDb.start(dir, List.of()); ThrowawayMariaDb target = ThrowawayMariaDb.start(dir, List.of())) {
            try (Connection c = source.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.orders (id bigint auto_increment primary key, note varchar(100), at datetime(6) not null)");
                s.execute("insert into shop.orders (note, at) select concat('order ', seq), utc_timestamp(6) from shop.seq_1_to_300");
                s.execute("create database billing");
                s.execute("create table billing.`in``voices` (id int primary key, total decimal(10,2))");
                s.execute("insert into billing.`in``voices` select seq, seq * 1.5 from billing.seq_1_to_200");
                s.execute("create procedure billing.n(out x int) select count(*) into x from billing.`in``voices`");
                s.execute("create table billing.legacy (id int primary key) engine=MyISAM");
                s.execute("insert into billing.legacy values (1), (2)");
                s.execute("create database empty_one");
                s.execute("create user 'bk'@'127.0.0.1' identified by 'pw-bk'");
                s.execute("grant select, show view, trigger, event, lock tables on *.* to 'bk'@'127.0.0.1'");
                s.execute("create user 'narrow'@'127.0.0.1' identified by 'pw-n'");
                s.execute("grant select, show view, trigger, event, lock tables on shop.* to 'narrow'@'127.0.0.1'");
                s.execute("grant select on mysql.proc to 'narrow'@'127.0.0.1'");
            }
            Path key = dir.resolve("key.txt");
            String server = "mariadb://bk@127.0.0.1:" + source.port();
            BackupsConfig b = new BackupsConfig(List.of(AppDatabases.ageKey(key)), List.of("vault", "shelter"),
                    Map.of("all", new BackupSource("all", server, null, "pw-bk", null, null, null, true),
                            "narrow", new BackupSource("narrow", "mariadb://narrow@127.0.0.1:" + source.port(), null, "pw-n", null, null, null, true)),
                    new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3), BackupsConfig.NONE.snapshot(), null, false);
            DrillsConfig drills = new DrillsConfig(Duration.ofDays(1), key, "all", "shop.orders.at", Duration.ofDays(1),
                    List.of("(select count(*) from billing.`in``voices`) = 200"), Duration.ofDays(1), 50);
            BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(drills, AlertsConfig.DEFAULTS);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
                Manifest m = engine.backups().take().run("all", "dump");
                assertThat(m.allDatabases()).isTrue();
                assertThat(m.databases()).containsExactly("billing", "shop");
                assertThat(m.rowCounts()).containsEntry("`shop`.`orders`", 300L).containsEntry("`billing`.`in``voices`", 200L)
                        .containsEntry("`billing`.`legacy`", 2L).allSatisfy((table, rows) -> assertThat(table).doesNotStartWith("`mysql`"));
                // a table no snapshot holds still is named in the manifest, with what to do about it
                assertThat(m.warnings()).singleElement().asString().contains("billing.legacy (MyISAM)").contains("ENGINE=InnoDB");

                assertThatThrownBy(() -> engine.backups().restore().run(m, target.restoreTarget("shop"), AgeCrypto.readIdentities(key), false, l -> {}))
                        .hasMessageContaining("holds every database of its server (billing, shop)").hasMessageContaining("without a database");
                engine.backups().restore().run(m, target.restoreTarget(null), AgeCrypto.readIdentities(key), false, l -> {});
                try (Connection c = target.connect(null)) {
                    assertThat(count(c, "select count(*) from shop.orders")).isEqualTo(300);
                    assertThat(count(c, "select sum(total) * 10 from billing.`in``voices`")).isEqualTo(301500);
                    assertThat(count(c, "select count(*) from information_schema.schemata where schema_name = 'empty_one'")).isEqualTo(1);
                    assertThat(count(c, "select count(*) from information_schema.routines where routine_schema = 'billing'")).isEqualTo(1);
                    assertThat(count(c, "select count(*) from mysql.user where user = 'bk'")).as("accounts are the server's, not in the dump").isZero();
                }
                assertThatThrownBy(() -> engine.backups().restore().run(m, target.restoreTarget(null), AgeCrypto.readIdentities(key), false, l -> {}))
                        .hasMessageContaining("is not empty").hasMessageContaining("--clean");

                DrillRuns.Run run = engine.drills().database().run("all");
                assertThat(run.ok()).as(run.log()).isTrue();
                assertThat(run.checks()).anySatisfy(c -> assertThat(c.detail()).contains("3 tables match"));

                assertThatThrownBy(() -> engine.backups().take().run("narrow", "dump")).hasMessageContaining("may not read every database")
                        .hasMessageContaining("ON *.*");
                assertThat(engine.backups().catalog().list()).extracting(e -> e.manifest().source()).containsOnly("all");
            }
        }
    }
}
