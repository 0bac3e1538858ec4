package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.alert.Alerts;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.TestConfigs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL stream's lag and retained-WAL alerts against a real PostgreSQL source: a backup store that refuses every upload
 * holds the WAL back, the source keeps it for the slot, both alerts fire saying why and what to do, and both clear once
 * the store takes uploads again.
 */
@Timeout(240)
class WalAlertsTest {
    @TempDir Path dir;
    final Map<String, FaultyStore> faulty = new HashMap<>();
    EmbeddedPostgres source;
    Bunker bunker;
    WalStreams streams;
    Engine engine;

    @BeforeEach
    void setUp() throws Exception {
        source = EmbeddedPostgres.builder().start();
        PointInTimeRestoreTest.createEvents(source);
        BackupsConfig b = PointInTimeRestoreTest.pitrBackups(AppDatabases.ageKey(dir.resolve("key.txt")), source.getPort());
        BunkerConfig.AlertsConfig a = BunkerConfig.AlertsConfig.DEFAULTS;
        BunkerConfig.AlertsConfig rules = new BunkerConfig.AlertsConfig(a.webhooks(), a.drillStaleAfter(), a.backupStaleFactor(),
                a.replicationLagAbove(), a.failedJobsAbove(), a.storeUnhealthyFor(), a.every(), Duration.ofSeconds(3), 16L << 20);
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(BunkerConfig.DrillsConfig.NONE, rules);
        bunker = Bunker.open(config, Clock.systemUTC(), FaultyStore.into(faulty));
        streams = new WalStreams(b, bunker.stores(), config.dataDir(), Clock.systemUTC(), new WalLedger(bunker.database().dataSource()));
        streams.start();
        engine = Engine.on(bunker);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (engine != null) engine.close();
        if (streams != null) streams.close();
        if (bunker != null) bunker.close();
        if (source != null) source.close();
    }

    Optional<Alerts.Alert> alert(String name) throws Exception {
        engine.alerts().evaluate();
        return engine.alerts().list().stream().filter(a -> a.name().equals(name)).findFirst();
    }

    /** Evaluates the alerts until {@code name} is in the state wanted, or fails after a minute. */
    Alerts.Alert await(String name, boolean firing) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            Optional<Alerts.Alert> a = alert(name);
            if (a.isPresent() && a.get().firing() == firing) return a.get();
            if (System.nanoTime() > deadline) throw new AssertionError(name + " is not " + (firing ? "firing" : "resolved") + ": " + a);
            Thread.sleep(500);
        }
    }

    @Test
    void aStoreThatRefusesUploadsRaisesLagAndRetainedAlertsThatClearOnceItTakesThemAgain() throws Exception {
        PointInTimeRestoreTest.awaitStored(source, streams);
        assertThat(alert("wal-lag:app")).isEmpty();

        faulty.get("shelter").failPuts = true;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            // about 40 MB of WAL the slot must keep while nothing can be stored
            s.execute("insert into events (note) select repeat('x', 1000) from generate_series(1, 30000)");
        }
        Alerts.Alert lag = await("wal-lag:app", true);
        assertThat(lag.message()).contains("no WAL of app stored since").contains("threshold 3s").contains("last error at")
                .contains("is serve running?");
        Alerts.Alert retained = await("wal-retained:app", true);
        assertThat(retained.message()).contains("replication slot bunker_app keeps").contains("(threshold 16.8 MB)")
                .contains("bunker db slots --source app --drop bunker_app");

        faulty.get("shelter").failPuts = false;
        PointInTimeRestoreTest.awaitStored(source, streams);
        assertThat(await("wal-lag:app", false).resolvedAt()).isNotNull();
        assertThat(await("wal-retained:app", false).resolvedAt()).isNotNull();
    }
}
