package dev.bunker.binlog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.alert.Alerts;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.drill.ThrowawayMariaDb;
import dev.bunker.recovery.RecoveryReport;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A MariaDB source whose server logs statements instead of rows: the stream refuses it saying what to change in my.cnf,
 * the binlog-lag alert fires with that reason and the metric says it is not streaming; once the server logs rows the
 * stream stores it, the alert clears, and `bunker dr` puts the database's RPO at the binary log's age.
 */
@Timeout(240)
class BinlogAlertsTest {
    @TempDir Path dir;

    static Optional<Alerts.Alert> alert(Engine engine, String name) throws Exception {
        engine.alerts().evaluate();
        return engine.alerts().list().stream().filter(a -> a.name().equals(name)).findFirst();
    }

    static Alerts.Alert await(Engine engine, String name, boolean firing) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            Optional<Alerts.Alert> a = alert(engine, name);
            if (a.isPresent() && a.get().firing() == firing) return a.get();
            if (System.nanoTime() > deadline) throw new AssertionError(name + " is not " + (firing ? "firing" : "resolved") + ": " + a);
            Thread.sleep(500);
        }
    }

    @Test
    void aServerLoggingStatementsIsRefusedWithWhatToChangeAndAlertsUntilItLogsRows() throws Exception {
        try (ThrowawayMariaDb server = ThrowawayMariaDb.start(dir, List.of("--log-bin=binlog", "--binlog-format=STATEMENT"))) {
            try (Connection c = server.connect(null); Statement s = c.createStatement()) {
                s.execute("create database shop");
                s.execute("create table shop.orders (id bigint auto_increment primary key, note varchar(100) not null)");
                s.execute("create user 'bk'@'127.0.0.1' identified by 'pw-bk'");
                s.execute("grant select, show view, trigger, event, lock tables on shop.* to 'bk'@'127.0.0.1'");
                s.execute("grant select on mysql.proc to 'bk'@'127.0.0.1'");
                s.execute("grant binlog monitor, replication slave on *.* to 'bk'@'127.0.0.1'");
            }
            Path config = ConfigFiles.write(dir, TestDatabase.fresh(), """
                    data-dir: %s
                    alerts: {wal-lag-above: 3s}
                    backups:
                      recipients: ["%s"]
                      stores: [vault, shelter]
                      sources:
                        shop: {url: "mariadb://bk@127.0.0.1:%d/shop", password: pw-bk, binlog: {flush-every: 300ms}}
                    """.formatted(dir.resolve("data"), AppDatabases.ageKey(dir.resolve("key.txt")), server.port()));
            BunkerConfig c = ConfigLoader.load(config, ConfigLoader.Overrides.NONE);
            try (Bunker bunker = Bunker.open(c, Clock.systemUTC()); Engine engine = Engine.on(bunker); BinlogStreams streams = engine.binlogStreams()) {
                streams.registerMetrics(bunker.metrics(), Clock.systemUTC());
                streams.start();
                Alerts.Alert lag = await(engine, "binlog-lag:shop", true);
                assertThat(lag.message()).contains("no binary log of shop stored yet").contains("binlog_format=STATEMENT")
                        .contains("add log_bin and binlog_format=ROW to the [mysqld] section of its my.cnf and restart it");
                assertThat(bunker.metrics().scrape()).contains("bunker_binlog_streaming{source=\"shop\"} 0.0");

                try (Connection admin = server.connect(null); Statement s = admin.createStatement()) {
                    s.execute("set global binlog_format = 'ROW'"); // what the message asks for, without the restart
                    s.execute("insert into shop.orders (note) values ('logged as a row')");
                }
                assertThat(await(engine, "binlog-lag:shop", false).resolvedAt()).isNotNull();
                assertThat(bunker.metrics().scrape()).contains("bunker_binlog_streaming{source=\"shop\"} 1.0");
                RecoveryReport.Scenario lost = engine.recovery().stream().filter(s -> s.id().equals("database")).findFirst().orElseThrow();
                assertThat(lost.rpo()).contains("shop: changes since").contains("the binary log stored last");
            }
        }
    }
}
