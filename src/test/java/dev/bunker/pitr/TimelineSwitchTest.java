package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.PgTools;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.Pitr;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.TestConfigs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source that fails over: its standby is promoted to a new timeline and takes over the primary's address. Bunker's
 * stream follows it (the new timeline's history and first segment stored, no gap), and a restore from a base backup taken
 * on the old timeline to a time after the promotion crosses the switch, as PostgreSQL's own archive recovery would.
 */
@Timeout(300)
class TimelineSwitchTest {
    @TempDir Path dir;
    final Map<String, FaultyStore> faulty = new java.util.HashMap<>();
    EmbeddedPostgres primary;
    EmbeddedPostgres standby;
    Bunker bunker;
    Backups backups;
    WalStreams streams;
    Path key;

    @AfterEach
    void tearDown() throws Exception {
        if (streams != null) streams.close();
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        if (standby != null) standby.close();
        if (primary != null) primary.close();
    }

    BackupsConfig backupsConfig;
    BunkerConfig config;

    /** Bunker streaming the source on {@code port} into two locked local stores (the streams started). */
    WalLedger openBunker(int port) throws Exception {
        key = dir.resolve("key.txt");
        backupsConfig = new BackupsConfig(List.of(AppDatabases.ageKey(key)), List.of("vault", "shelter"),
                Map.of("app", new BackupSource("app", "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "streamer", null,
                        new Pitr("bunker_app", Duration.ofMillis(300)))),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false, List.of(), BackupsConfig.KEEP_NEWEST,
                new BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3));
        config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(backupsConfig);
        bunker = Bunker.open(config, Clock.systemUTC(), FaultyStore.into(faulty));
        backups = Engine.backups(bunker);
        WalLedger ledger = new WalLedger(bunker.database().dataSource());
        streams = new WalStreams(backupsConfig, bunker.stores(), config.dataDir(), Clock.systemUTC(), ledger);
        streams.start();
        return ledger;
    }

    /**
     * serve down through a failover, and back only once the new server has recycled its first segment: it cannot start at
     * the switch, so it streams from its new slot and records the gap (before, it retried the gone segment for ever).
     */
    @Test
    void aNewTimelineWhoseFirstSegmentIsGoneIsStreamedFromTheSlotAndTheGapRecorded() throws Exception {
        primary = EmbeddedPostgres.builder().start();
        int port = primary.getPort();
        PointInTimeRestoreTest.createEvents(primary);
        WalLedger ledger = openBunker(port);
        backups.take().run("app", "base");
        Path standbyDir = dir.resolve("standby");
        standby = startStandby(primary, standbyDir, Map.of());
        awaitStored(primary);
        streams.close();
        awaitReplayed(primary, standby);
        primary.close();
        primary = null;
        standby = takeOver(standby, standbyDir, port, Map.of("wal_keep_size", "0", "min_wal_size", "32MB", "max_wal_size", "64MB"));
        String first;
        try (Connection c = standby.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            first = walFile(s);
            for (int i = 0; i < 6; i++) {
                s.execute("insert into events (note) select 'filler' from generate_series(1, 20000)");
                s.execute("select pg_switch_wal()");
                s.execute("checkpoint");
            }
        }
        assertThat(standbyDir.resolve("pg_wal").resolve(first)).as("the new timeline's first segment, recycled").doesNotExist();

        streams = new WalStreams(backupsConfig, bunker.stores(), config.dataDir(), Clock.systemUTC(), ledger);
        streams.start();
        insert(standby, "after serve came back", 10);
        awaitStored(standby);
        assertThat(ledger.row("app").gapFrom()).as("the WAL between the switch and the new slot is a gap").isNotNull();
    }

    private static String walFile(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery("select pg_walfile_name(pg_current_wal_lsn())")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aRestoreFollowsTheSourceAcrossAFailoverToANewTimeline() throws Exception {
        primary = EmbeddedPostgres.builder().start();
        int port = primary.getPort();
        PointInTimeRestoreTest.createEvents(primary);
        WalLedger ledger = openBunker(port);
        Manifest base = backups.take().run("app", "base");
        insert(primary, "on the old timeline", 200);

        Path standbyDir = dir.resolve("standby");
        standby = startStandby(primary, standbyDir, Map.of());
        insert(primary, "late on the old timeline", 100);
        awaitReplayed(primary, standby);
        awaitStored(primary);

        primary.close();
        primary = null;
        standby = takeOver(standby, standbyDir, port, Map.of());

        insert(standby, "on the new timeline", 150);
        Thread.sleep(1100);
        Instant beforeDelete = now(standby);
        Thread.sleep(1100);
        try (Connection c = standby.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("set synchronous_commit = on");
            assertThat(s.executeUpdate("delete from events where note like 'before %'")).isEqualTo(1000);
            s.execute("insert into events (note) values ('after target')");
        }
        awaitStored(standby);

        assertThat(ledger.row("app").gapFrom()).as("the stream followed the promotion without a gap").isNull();
        ManifestTrust trust = ManifestTrust.of(List.of(), config.dataDir());
        for (String store : List.of("vault", "shelter")) {
            assertThat(HistoryFile.find(bunker.stores().get(store), "app", base.wal().systemId(), 2, trust)).as(store).isPresent();
        }

        WalTimeline.Timeline timeline = WalTimeline.of(bunker.stores().get("vault"), "app", backups.restore().bases("app"), trust);
        assertThat(timeline.runs()).as("db timeline").anySatisfy(run -> {
            assertThat(run.timeline()).isEqualTo(2);
            assertThat(run.branchedFrom()).startsWith("1 at 0/");
        });
        assertThat(timeline.windows().get(0).to()).as("the base backup's window reaches across the switch").isAfter(beforeDelete);

        Path restored = dir.resolve("restored");
        List<String> progress = new java.util.ArrayList<>();
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), config.dataDir());
        PointInTimeRestore.Result r = pitr.run("app", beforeDelete, restored, AgeCrypto.readIdentities(key), progress::add);
        assertThat(r.baseBackup()).isEqualTo(base.id());
        assertThat(base.wal().timeline()).isEqualTo(1);
        assertThat(String.join("\n", progress)).contains("on timeline 2 (following 00000002.history)");
        assertThat(r.recoveryTarget()).isNotNull();
        standby.close();
        standby = null;
        try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(restored); Connection c = PointInTimeRestoreTest.promoted(pg);
             Statement s = c.createStatement()) {
            assertThat(count(s, "before %")).as("the rows the DELETE removed are back").isEqualTo(1000);
            assertThat(count(s, "on the old timeline")).isEqualTo(200);
            assertThat(count(s, "late on the old timeline")).isEqualTo(100);
            assertThat(count(s, "on the new timeline")).as("the WAL written after the promotion").isEqualTo(150);
            assertThat(count(s, "after target")).isZero();
            try (ResultSet rs = s.executeQuery("select timeline_id from pg_control_checkpoint()")) {
                rs.next();
                assertThat(rs.getInt(1)).as("promoted past timeline 2, not beside it").isEqualTo(3);
            }
        }
        // The README's by-hand recipe crosses the switch too: PostgreSQL asks docs/restore-wal.sh for 00000002.history.
        Path byHand = dir.resolve("by-hand");
        PointInTimeRestoreTest.byHand((dev.bunker.store.LocalStore) faulty.get("shelter").real(), base, byHand, key, beforeDelete);
        try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(byHand); Connection c = PointInTimeRestoreTest.promoted(pg);
             Statement s = c.createStatement()) {
            assertThat(count(s, "before %")).isEqualTo(1000);
            assertThat(count(s, "on the new timeline")).isEqualTo(150);
        }
    }

    /** A standby of {@code primary} in {@code into}: a copy of it (pg_basebackup -R) that replays its WAL as it is written. */
    static EmbeddedPostgres startStandby(EmbeddedPostgres primary, Path into, Map<String, String> settings) throws Exception {
        Process copy = new ProcessBuilder(PgTools.find("pg_basebackup", 15, null).toString(), "-h", "127.0.0.1", "-p", Integer.toString(primary.getPort()),
                "-U", "postgres", "-D", into.toString(), "-R", "-X", "stream").redirectErrorStream(true).start();
        String output = new String(copy.getInputStream().readAllBytes());
        assertThat(copy.waitFor()).as(output).isZero();
        return start(into, 0, settings);
    }

    /** Failover, once the primary is gone: the standby is started again on the primary's port and promoted to a new timeline. */
    static EmbeddedPostgres takeOver(EmbeddedPostgres standby, Path dataDir, int port, Map<String, String> settings) throws Exception {
        int timeline = timeline(standby);
        standby.close();
        EmbeddedPostgres promoted = start(dataDir, port, settings);
        try (Connection c = promoted.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("select pg_promote()");
        }
        PointInTimeRestoreTest.promoted(promoted).close();
        assertThat(timeline(promoted)).isEqualTo(timeline + 1);
        return promoted;
    }

    private static EmbeddedPostgres start(Path dataDir, int port, Map<String, String> settings) throws Exception {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false)
                .setPGStartupWait(Duration.ofSeconds(120));
        if (port > 0) b.setPort(port);
        settings.forEach(b::setServerConfig);
        return b.start();
    }

    static void insert(EmbeddedPostgres pg, String note, int rows) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("set synchronous_commit = on");
            s.execute("insert into events (note) select '" + note + "' from generate_series(1, " + rows + ")");
        }
    }

    static long count(Statement s, String note) throws Exception {
        try (ResultSet rs = s.executeQuery("select count(*) from events where note like '" + note + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Instant now(EmbeddedPostgres pg) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    static int timeline(EmbeddedPostgres pg) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select timeline_id from pg_control_checkpoint()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static long lsn(EmbeddedPostgres pg, String function) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select " + function)) {
            rs.next();
            return Wal.parseLsn(rs.getString(1));
        }
    }

    static void awaitReplayed(EmbeddedPostgres from, EmbeddedPostgres to) throws Exception {
        long target = lsn(from, "pg_current_wal_flush_lsn()");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (lsn(to, "pg_last_wal_replay_lsn()") < target) {
            if (System.nanoTime() > deadline) throw new AssertionError("the standby did not replay to " + Wal.formatLsn(target));
            Thread.sleep(100);
        }
    }

    void awaitStored(EmbeddedPostgres source) throws Exception {
        PointInTimeRestoreTest.awaitStored(source, streams);
    }
}
