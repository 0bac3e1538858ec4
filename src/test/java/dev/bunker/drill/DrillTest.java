package dev.bunker.drill;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.recovery.RecoveryReport;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Drills and alerts on a real PostgreSQL, real backups and real stores; the drill starts its own throwaway server. */
@Timeout(180)
class DrillTest {
    @TempDir Path dir;
    Bunker bunker;
    Engine engine;
    HttpServer receiver;
    final List<String> received = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        if (engine != null) engine.close();
        if (bunker != null) bunker.close();
        if (receiver != null) receiver.stop(0);
    }

    /** An app database with a read-only backup role and recent rows; returns the backups config for it. */
    BackupsConfig appWithBackups(Path key) throws Exception {
        DatabaseConfig app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table users (id serial primary key, email text not null)");
            s.execute("create table events (id bigserial primary key, user_id int, created_at timestamptz not null)");
            s.execute("insert into users (email) select 'u' || g || '@example.com' from generate_series(1, 300) g");
            s.execute("insert into events (user_id, created_at) select 1 + g % 300, now() - g * interval '1 second' from generate_series(1, 3000) g");
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        Process p = new ProcessBuilder("age-keygen", "-o", key.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String recipient = Files.readAllLines(key).stream().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow().substring(14);
        return new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false);
    }

    void open(BunkerConfig config, Clock clock) {
        bunker = Bunker.open(config, clock);
        engine = Engine.on(bunker);
    }

    DrillsConfig drills(Path identity, List<String> checks) {
        return new DrillsConfig(Duration.ofDays(1), identity, null, "public.events.created_at", Duration.ofDays(2), checks, Duration.ofDays(1), 50);
    }

    @Test
    void theDatabaseDrillRestoresTheNewestBackupIntoAFreshServerAndPasses() throws Exception {
        Path key = dir.resolve("key.txt");
        BackupsConfig backups = appWithBackups(key);
        open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(backups)
                .withDrills(drills(key, List.of("select count(*) = 300 from users")), AlertsConfig.DEFAULTS), Clock.systemUTC());
        Manifest m = engine.backups().take().run("app", "dump");
        try (Connection c = bunker.database().connection()) {
            c.createStatement().execute("truncate backups"); // the drill must not need Bunker's catalog
        }
        DrillRuns.Run run = engine.drills().database().run(null);
        assertThat(run.ok()).as(run.log()).isTrue();
        assertThat(run.backupId()).isEqualTo(m.id());
        assertThat(run.restoreSeconds()).isPositive();
        assertThat(run.backupAgeSeconds()).isBetween(0.0, 600.0);
        assertThat(run.checks()).extracting(DrillRuns.Check::name).containsExactly("restore",
                "every table readable, row counts as recorded", "freshness of public.events.created_at", "sql: select count(*) = 300 from users");
        assertThat(engine.drills().runs().history("db", 5)).extracting(DrillRuns.Run::id).containsExactly(run.id());
        assertThat(engine.drills().lastSuccesses().get("db")).isCloseTo(run.finishedAt(), org.assertj.core.api.Assertions.within(1, java.time.temporal.ChronoUnit.MILLIS));
    }

    @Test
    void aCorruptBackupAWrongKeyOrAFailingCheckFailsTheDrillWithTheReason() throws Exception {
        Path key = dir.resolve("key.txt");
        BackupsConfig backups = appWithBackups(key);
        BunkerConfig base = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(backups);

        open(base.withDrills(drills(key, List.of("select count(*) > 1000 from users")), AlertsConfig.DEFAULTS), Clock.systemUTC());
        Manifest m = engine.backups().take().run("app", "dump");
        DrillRuns.Run failingCheck = engine.drills().database().run(null);
        assertThat(failingCheck.ok()).isFalse();
        assertThat(failingCheck.log()).contains("FAIL sql: select count(*) > 1000 from users: returned false");

        Path otherKey = dir.resolve("other.txt");
        new ProcessBuilder("age-keygen", "-o", otherKey.toString()).start().waitFor(10, TimeUnit.SECONDS);
        engine.close();
        bunker.close();
        open(base.withDrills(drills(otherKey, List.of()), AlertsConfig.DEFAULTS), Clock.systemUTC());
        DrillRuns.Run wrongKey = engine.drills().database().run(null);
        assertThat(wrongKey.ok()).isFalse();
        assertThat(wrongKey.log()).contains("FAIL restore").contains("unable to decrypt");

        Path file = ((LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store("vault"))).pathOf(m.dataKey());
        byte[] b = Files.readAllBytes(file);
        b[b.length / 3] ^= 0x08;
        Files.write(file, b);
        engine.close();
        bunker.close();
        open(base.withDrills(drills(key, List.of()), AlertsConfig.DEFAULTS), Clock.systemUTC());
        DrillRuns.Run corrupt = engine.drills().database().run(null);
        assertThat(corrupt.ok()).isFalse();
        assertThat(corrupt.log()).contains("FAIL restore").contains("corrupt");
        assertThat(engine.drills().lastSuccesses().get("db")).isNull();
    }

    @Test
    void theStalenessAlertFiresPastItsThresholdReachesTheWebhookAndClearsItself() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", ex -> {
            received.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.start();
        MutableClock clock = MutableClock.atNow();
        AlertsConfig alerts = new AlertsConfig(List.of("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook"), Duration.ofSeconds(2),
                2.0, Duration.ofHours(1), 0, Duration.ofMinutes(10), Duration.ofMinutes(1));
        open(TestConfigs.threeLocalStores(dir.resolve("data")).withDrills(drills(dir.resolve("key.txt"), List.of()), alerts), clock);

        assertThat(engine.alerts().evaluate()).isTrue();
        assertThat(engine.alerts().list()).isEmpty();
        clock.advance(Duration.ofSeconds(3));
        engine.alerts().evaluate();
        assertThat(engine.alerts().list()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("db-drill-stale");
            assertThat(a.firing()).isTrue();
            assertThat(a.message()).contains("no successful database drill yet");
        });
        assertThat(received).singleElement().satisfies(json -> assertThat(json).contains("\"alert\":\"db-drill-stale\"", "\"status\":\"firing\""));
        engine.alerts().evaluate(); // still failing: no second notification
        assertThat(received).hasSize(1);
        assertThat(bunker.metrics().scrape()).contains("bunker_alerts_firing 1.0");

        Instant now = clock.instant();
        engine.drills().runs().record(new DrillRuns.Run(0, "db", now, now, true, "b1", 10.0, 5.0, List.of(), "ok"));
        engine.alerts().evaluate();
        assertThat(engine.alerts().list()).singleElement().satisfies(a -> assertThat(a.firing()).isFalse());
        assertThat(received).hasSize(2);
        assertThat(received.get(1)).contains("\"status\":\"resolved\"");
    }

    @Test
    void theObjectDrillFindsACorruptCopyOnDiskAndReEnqueuesIt() throws Exception {
        open(TestConfigs.threeLocalStores(dir.resolve("data")), Clock.systemUTC());
        for (int i = 0; i < 5; i++) {
            byte[] data = ("object number " + i).repeat(100).getBytes();
            engine.replication().ingest().put("o" + i, new ByteArrayInputStream(data), data.length, null, null);
        }
        engine.replication().workers().drain();
        assertThat(engine.drills().objects().run(50).ok()).isTrue();

        Path onDisk = ((LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store("shelter"))).pathOf("o3");
        byte[] b = Files.readAllBytes(onDisk);
        b[7] ^= 0x01;
        Files.write(onDisk, b);
        DrillRuns.Run run = engine.drills().objects().run(50);
        assertThat(run.ok()).isFalse();
        assertThat(run.log()).contains("FAIL shelter o3: SHA-256");
        assertThat(engine.replication().ledger().copies("o3")).anySatisfy(c -> {
            assertThat(c.store()).isEqualTo("shelter");
            assertThat(c.state()).isEqualTo(dev.bunker.replication.CopyState.CORRUPT);
        });
        engine.replication().workers().drain(); // the repair job
        assertThat(engine.drills().objects().run(50).ok()).isTrue();

        DrillRuns.Run failover = engine.drills().failover().run(50);
        assertThat(failover.ok()).isTrue();
        assertThat(failover.log()).contains("5 of 5 served from replicas (100.0%)");

        // The recovery report reads what was actually done: all copies verified, failover rehearsed.
        byte[] fresh = "not yet replicated".getBytes();
        engine.replication().ingest().put("fresh", new ByteArrayInputStream(fresh), fresh.length, null, null);
        List<RecoveryReport.Scenario> dr = engine.recovery();
        assertThat(dr.get(0).name()).isEqualTo("primary store 'primary' unavailable");
        assertThat(dr.get(0).rpo()).startsWith("1 objects have no verified copy elsewhere");
        assertThat(dr.get(0).rto()).contains("fail over automatically", "5 of 5");
        assertThat(dr).filteredOn(x -> x.name().startsWith("attacker")).singleElement()
                .satisfies(x -> assertThat(x.rpo()).startsWith("1 objects have no verified copy under lock in [vault]"));
        assertThat(dr).filteredOn(x -> x.name().startsWith("store 'shelter'")).singleElement()
                .satisfies(x -> assertThat(x.rpo()).startsWith("0 objects would have no verified copy left"));
        assertThat(dr).filteredOn(x -> x.id().equals("database")).singleElement()
                .satisfies(x -> assertThat(x.rpo()).isEqualTo("everything: no backups configured"));
        assertThat(dr.get(0).lastProven()).isNotNull(); // the failover drill above passed
        assertThat(dr).extracting(RecoveryReport.Scenario::id).contains("primary-store", "region", "store-shelter", "deletion", "credentials", "database",
                "bunker-database").doesNotHaveDuplicates();
        assertThat(dr).filteredOn(x -> x.id().equals("region")).singleElement() // three local stores: one machine holds them all
                .satisfies(x -> assertThat(x.rpo()).isEqualTo("every object (no store is elsewhere)"));
    }
}
