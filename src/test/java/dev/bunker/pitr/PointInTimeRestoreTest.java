package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.Pitr;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.TestConfigs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery against a real PostgreSQL cluster (a throwaway embedded server): WAL streamed through a
 * replication slot into locked, encrypted local stores while a writer inserts rows, a DELETE undone by restoring to a
 * second before it, and the restored cluster started.
 */
@Timeout(300)
class PointInTimeRestoreTest {
    @TempDir Path dir;
    final Map<String, FaultyStore> faulty = new HashMap<>();
    EmbeddedPostgres source;
    Path key;
    Bunker bunker;
    Backups backups;
    WalStreams streams;

    @BeforeEach
    void setUp() throws Exception {
        source = EmbeddedPostgres.builder().start();
        createEvents(source);
        key = dir.resolve("key.txt");
        String recipient = AppDatabases.ageKey(key);
        BackupsConfig b = pitrBackups(recipient, source.getPort());
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(new BunkerConfig.DrillsConfig(
                Duration.ofDays(1), key, "app", "public.events.at", Duration.ofMinutes(10), List.of("(select count(*) from events) > 0"),
                Duration.ofDays(1), 100), BunkerConfig.AlertsConfig.DEFAULTS);
        bunker = Bunker.open(config, Clock.systemUTC(), FaultyStore.into(faulty));
        backups = Engine.backups(bunker);
        streams = new WalStreams(b, bunker.stores(), config.dataDir(), Clock.systemUTC(), new WalLedger(bunker.database().dataSource()));
        streams.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (streams != null) streams.close();
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        if (source != null) source.close();
    }

    /** Inserts a row every few milliseconds until stopped, remembering each row's id and insert time. */
    final class Writer implements AutoCloseable {
        final TreeMap<Long, Instant> rows = new TreeMap<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;

        Writer() {
            thread = new Thread(() -> {
                try (Connection c = source.getPostgresDatabase().getConnection();
                     PreparedStatement ps = c.prepareStatement("insert into events (note) values ('live') returning id, at")) {
                    while (!stop.get()) {
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            synchronized (rows) {
                                rows.put(rs.getLong(1), rs.getTimestamp(2).toInstant());
                            }
                        }
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, "writer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }

    /** Backups of the source on {@code port} (role streamer) with pitr, its WAL cut every 300 ms, base backups kept and locked 14 days. */
    static BackupsConfig pitrBackups(String recipient, int port) {
        return new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                Map.of("app", new BackupSource("app", "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "streamer", null,
                        new Pitr("bunker_app", Duration.ofMillis(300)))),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false, List.of(), BackupsConfig.KEEP_NEWEST,
                new BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3));
    }

    /** The source's role with only REPLICATION ({@code streamer}) and its {@code events} table with 1,000 rows noted "before N". */
    static void createEvents(EmbeddedPostgres source) throws java.sql.SQLException {
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("create role streamer login replication");
            s.execute("create table events (id bigserial primary key, note text not null, at timestamptz not null default clock_timestamp())");
            s.execute("insert into events (note) select 'before ' || g from generate_series(1, 1000) g");
        }
    }

    /** The source cluster's system identifier: its WAL's folder in the stores. */
    String systemId() throws Exception {
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select system_identifier::text from pg_control_system()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    Instant sourceNow() throws Exception {
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    /** Waits until the stream has stored everything the source has written so far. */
    void awaitStored() throws Exception {
        awaitStored(source, streams);
    }

    /** Waits until {@code streams} (of one source) has stored everything {@code source} has written so far. */
    static void awaitStored(EmbeddedPostgres source, WalStreams streams) throws Exception {
        long target;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select pg_current_wal_flush_lsn()")) {
            rs.next();
            target = Wal.parseLsn(rs.getString(1));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            String durable = streams.status().get(0).durableLsn();
            if (durable != null && Wal.parseLsn(durable) >= target) return;
            Thread.sleep(100);
        }
        throw new AssertionError("the stream did not store WAL up to " + Wal.formatLsn(target) + ": " + streams.status());
    }

    /**
     * A commit after the target, stored: without one, a restore to a time after the source's last commit needs the stream's
     * marker that nothing was written since (every 30 s), and the test would depend on autovacuum committing meanwhile.
     */
    void commitAfterTarget() throws Exception {
        Thread.sleep(20);
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            // The embedded server commits asynchronously (synchronous_commit = off): this commit waits for its flush, so the
            // flush position awaitStored waits for includes it (under load the WAL writer can lag by more than its 200 ms).
            s.execute("set synchronous_commit = on");
            s.execute("insert into events (note) values ('after target')");
        }
        awaitStored();
    }

    static EmbeddedPostgres startOn(Path dataDir) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPGStartupWait(Duration.ofSeconds(120)).start();
    }

    /** Connects once recovery has ended and the server promoted itself. */
    static Connection promoted(EmbeddedPostgres pg) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            Connection c = pg.getPostgresDatabase().getConnection();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) return c;
            }
            c.close();
            if (System.nanoTime() > deadline) throw new AssertionError("the restored server is still in recovery");
            Thread.sleep(200);
        }
    }

    @Test
    void aDeleteIsUndoneByRestoringToASecondBeforeIt() throws Exception {
        Manifest base = backups.take().run("app", "base");
        Writer writer = new Writer();
        Thread.sleep(2500);
        Instant beforeDelete = sourceNow();
        Thread.sleep(1000);
        long deleted;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            deleted = s.executeUpdate("delete from events where note like 'before %' or id % 3 = 0");
        }
        Thread.sleep(1500);
        writer.close();
        awaitStored();
        assertThat(deleted).isGreaterThan(1000);

        Path restored = dir.resolve("restored");
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        PointInTimeRestore.Result r = pitr.run("app", beforeDelete, restored, AgeCrypto.readIdentities(key), l -> {});
        assertThat(r.baseBackup()).isEqualTo(base.id());
        assertThat(r.recoveryTarget()).startsWith(beforeDelete.toString().substring(0, 10) + " " + beforeDelete.toString().substring(11, 19));
        assertThat(r.lastCommitAt()).isBeforeOrEqualTo(beforeDelete).isAfter(beforeDelete.minusSeconds(1));
        assertThat(restored.resolve("recovery.signal")).exists();
        if (System.getenv("PITR_DEBUG") != null) new ProcessBuilder("cp", "-a", restored.toString(), System.getenv("PITR_DEBUG")).start().waitFor();

        List<Long> expected = new ArrayList<>();
        synchronized (writer.rows) {
            writer.rows.forEach((id, at) -> {
                if (at.isBefore(beforeDelete.minusMillis(100))) expected.add(id);
            });
        }
        try (EmbeddedPostgres pg = startOn(restored); Connection c = promoted(pg); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select count(*) from events where note like 'before %'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the rows the DELETE removed are back").isEqualTo(1000);
            }
            List<Long> live = new ArrayList<>();
            Instant newest = Instant.EPOCH;
            try (ResultSet rs = s.executeQuery("select id, at from events where note = 'live' order by id")) {
                while (rs.next()) {
                    Instant at = rs.getTimestamp(2).toInstant();
                    if (at.isBefore(beforeDelete.minusMillis(100))) live.add(rs.getLong(1));
                    if (at.isAfter(newest)) newest = at;
                }
            }
            assertThat(live).as("every row committed before the target").isEqualTo(expected);
            assertThat(newest).as("no row committed after the target").isBeforeOrEqualTo(beforeDelete);
        }
    }

    @Test
    void aTargetOutsideTheWindowIsRefusedBeforeAnythingIsWritten() throws Exception {
        Instant beforeBase = sourceNow().minusSeconds(60);
        backups.take().run("app", "base");
        awaitStored();
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        Path restored = dir.resolve("restored");
        assertThatThrownBy(() -> pitr.run("app", beforeBase, restored, AgeCrypto.readIdentities(key), l -> {}))
                .isInstanceOf(PitrException.class).matches(e -> ((PitrException) e).callersFault())
                .hasMessageContaining("before the oldest base backup").hasMessageContaining("earliest time to restore to");
        assertThatThrownBy(() -> pitr.run("app", Instant.now().plus(Duration.ofHours(1)), restored, AgeCrypto.readIdentities(key), l -> {}))
                .isInstanceOf(PitrException.class).matches(e -> ((PitrException) e).callersFault()).hasMessageContaining("restorable: ");
        assertThat(restored).doesNotExist();
    }

    @Test
    void storesThatFailAndAStreamThatIsKilledLeaveNoGapAndLockedWalCannotBeDeleted() throws Exception {
        Manifest base = backups.take().run("app", "base");
        try (Writer writer = new Writer()) {
            Thread.sleep(1000);
            faulty.get("shelter").failPuts = true; // uploads fail: the slot holds the WAL, the stream reconnects and retries
            Thread.sleep(2500);
            assertThat(streams.status().get(0).lastError()).isNotNull();
            faulty.get("shelter").failPuts = false;
            Thread.sleep(1000);
            streams.abandon(); // as a kill: what the stream holds is dropped, its connection cut
            streams = new WalStreams(backups.config(), bunker.stores(), bunker.config().dataDir(), Clock.systemUTC(),
                    new WalLedger(bunker.database().dataSource()));
            streams.start();
            Thread.sleep(1500);
        }
        awaitStored();
        Instant target = sourceNow();
        commitAfterTarget();
        ManifestTrust trust = ManifestTrust.of(List.of(), bunker.config().dataDir());
        for (String store : List.of("vault", "shelter")) {
            WalArchive.Listed listed = WalArchive.list(bunker.store(store), "app", systemId(), trust, null, null);
            assertThat(listed.refused()).isEmpty();
            WalArchive.Coverage cov = WalArchive.coverage(listed.chunks(), base.wal().timeline(), listed.chunks().get(0).startLsn());
            assertThat(cov.gap()).as(store).isNull();
            assertThat(cov.reached()).as(store).isGreaterThanOrEqualTo(Wal.parseLsn(streams.status().get(0).durableLsn()));
        }
        // Locked like a base backup: no one deletes a chunk early.
        WalChunk any = WalArchive.list(bunker.store("vault"), "app", systemId(), trust, null, null).chunks().get(0);
        assertThat(((LockableStore) bunker.store("vault")).lockState(any.dataKey()).retainUntil()).isAfter(Instant.now().plus(Duration.ofDays(13)));
        assertThatThrownBy(() -> dev.bunker.store.GuardedStore.withDeletionPermit("test", () -> {
            bunker.store("vault").delete(any.dataKey());
            return null;
        })).isInstanceOf(ObjectLockedException.class);

        Thread.sleep(1200);
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        Path restored = dir.resolve("restored");
        PointInTimeRestore.Result r = pitr.run("app", target, restored, AgeCrypto.readIdentities(key), l -> {});
        assertThat(r.segments()).isGreaterThanOrEqualTo(1);
        long expected;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from events where note <> 'after target'")) {
            rs.next();
            expected = rs.getLong(1);
        }
        try (EmbeddedPostgres pg = startOn(restored); Connection c = promoted(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from events")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(expected);
        }
    }

    @Test
    void aCorruptChunkStopsTheRestoreWithItsSegmentsName() throws Exception {
        Manifest base = backups.take().run("app", "base");
        try (Writer writer = new Writer()) {
            Thread.sleep(1500);
        }
        awaitStored();
        Instant target = sourceNow();
        commitAfterTarget();
        ManifestTrust trust = ManifestTrust.of(List.of(), bunker.config().dataDir());
        List<WalChunk> chunks = WalArchive.list(bunker.store("vault"), "app", systemId(), trust, null, null).chunks();
        // one the restore needs: after the base backup's start
        WalChunk victim = chunks.stream().filter(c -> c.endLsn() > Wal.parseLsn(base.wal().start())).findFirst().orElseThrow();
        for (String store : List.of("vault", "shelter")) {
            Path file = ((LocalStore) faulty.get(store).real()).pathOf(victim.dataKey());
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 1;
            file.toFile().setWritable(true);
            Files.write(file, bytes);
        }
        // The base backup downloads slowly (a minute or more): the bad WAL is reported without waiting for it.
        for (String store : List.of("vault", "shelter")) {
            faulty.get(store).getDelayMillisPerMiB = 60_000;
            faulty.get(store).slowGetsOf = base.dataKey();
        }
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        Path restored = dir.resolve("restored");
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> pitr.run("app", target, restored, AgeCrypto.readIdentities(key), l -> {})).as("target %s, chunks %s", target, chunks)
                .isInstanceOf(PitrException.class).hasMessageContaining(victim.segment()).hasMessageContaining("corrupt in every backup store");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the base download stopped when the WAL failed").isLessThan(Duration.ofSeconds(30));
        assertThat(restored).doesNotExist();
    }

    @Test
    void walPlantedByAnotherKeyOrMovedToAnotherNameIsNotUsed() throws Exception {
        backups.take().run("app", "base");
        try (Writer writer = new Writer()) {
            Thread.sleep(1000);
        }
        awaitStored();
        Instant target = sourceNow();
        commitAfterTarget();
        ManifestTrust trust = ManifestTrust.of(List.of(), bunker.config().dataDir());
        List<WalChunk> real = WalArchive.list(bunker.store("vault"), "app", systemId(), trust, null, null).chunks();
        WalChunk last = real.get(real.size() - 1);

        // Someone who can write to the stores (not to this machine) plants WAL that continues the real stream, signed by another key.
        WalUploader intruder = new WalUploader(backups.config(), bunker.stores(), dir.resolve("intruder"));
        long next = last.endLsn();
        intruder.upload("app", last.systemId(), last.timeline(), last.segmentSize(), next, new byte[8192], 8192 - (int) (next % 8192), Instant.now(), null);
        // and moves a real chunk's metadata to another name
        byte[] meta = bunker.store("vault").get(real.get(0).metaKey()).readAllBytes();
        String moved = WalChunk.prefix("app", last.systemId()) + real.get(0).segment() + ".00000000-00000010" + WalChunk.META_SUFFIX;
        bunker.store("vault").put(moved, new java.io.ByteArrayInputStream(meta), dev.bunker.store.PutOptions.ofSize(meta.length));

        WalArchive.Listed listed = WalArchive.list(bunker.store("vault"), "app", systemId(), trust, null, null);
        assertThat(listed.refused()).hasSize(2).anyMatch(r -> r.contains("not trusted here")).anyMatch(r -> r.contains("names itself"));
        assertThat(listed.chunks()).containsExactlyElementsOf(real);

        Thread.sleep(1200);
        PointInTimeRestore.Result r = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir())
                .run("app", target, dir.resolve("restored"), AgeCrypto.readIdentities(key), l -> {});
        assertThat(Files.size(dir.resolve("restored").resolve(PointInTimeRestore.WAL_FOLDER).resolve(last.segment()))).isEqualTo(last.segmentSize());
        assertThat(r.lastCommitAt()).isBeforeOrEqualTo(target);
    }

    /** The README's recipe: the base backup with age, zstd and tar, the WAL through docs/restore-wal.sh; no Bunker code. */
    @Test
    void theReadmesByHandRecipeRestoresToATime() throws Exception {
        Manifest base = backups.take().run("app", "base");
        Writer writer = new Writer();
        Thread.sleep(1500);
        Instant target = sourceNow();
        Thread.sleep(500);
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("delete from events");
        }
        Thread.sleep(500);
        writer.close();
        awaitStored();
        long liveBefore;
        synchronized (writer.rows) {
            liveBefore = writer.rows.values().stream().filter(at -> at.isBefore(target.minusMillis(100))).count();
        }
        Path restored = dir.resolve("by-hand");
        String pgTime = byHand((LocalStore) faulty.get("shelter").real(), base, restored, key, target);
        try (EmbeddedPostgres pg = startOn(restored); Connection c = promoted(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) filter (where note like 'before %'), count(*) filter (where at > '" + pgTime + "'), "
                     + "count(*) filter (where note = 'live' and at < timestamptz '" + pgTime + "' - interval '100 milliseconds') from events")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the rows the DELETE removed are back").isEqualTo(1000);
            assertThat(rs.getLong(2)).as("nothing after the target").isZero();
            assertThat(rs.getLong(3)).as("every row committed before the target").isEqualTo(liveBefore).isPositive();
        }
    }

    /**
     * The README's recipe, into {@code restored}: the cluster's WAL folder copied out of a local store, the base backup
     * through age, zstd and tar, docs/restore-wal.sh as the restore_command. Returns the recovery target as written.
     */
    static String byHand(LocalStore store, Manifest base, Path restored, Path key, Instant target) throws Exception {
        Path folder = store.pathOf(WalChunk.prefix("app", base.wal().systemId()) + "x").getParent();
        Path wal = restored.resolveSibling(restored.getFileName() + "-wal");
        Files.createDirectories(wal);
        try (var files = Files.list(folder)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(WalChunk.DATA_SUFFIX)).toList()) {
                Files.copy(f, wal.resolve(f.getFileName()));
            }
        }
        Files.createDirectories(restored);
        Path script = Path.of("docs/restore-wal.sh").toAbsolutePath();
        String pgTime = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(java.time.ZoneOffset.UTC).format(target);
        String recipe = "age -d -i \"$KEY\" < \"$1\" | zstd -d | tar --no-same-owner -x -C \"$2\" && chmod 700 \"$2\" && touch \"$2/recovery.signal\" && "
                + "printf \"%s\\n\" \"restore_command = 'BUNKER_WAL=$3 BUNKER_KEY=$KEY $4 %f %p'\" \"recovery_target_time = '$5'\" "
                + "\"recovery_target_action = 'promote'\" \"hot_standby = off\" >> \"$2/postgresql.auto.conf\"";
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", recipe, "sh", store.pathOf(base.dataKey()).toString(), restored.toString(), wal.toString(),
                script.toString(), pgTime).redirectErrorStream(true);
        pb.environment().put("KEY", key.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        return pgTime;
    }

    @Test
    void pruningTakesOnlyWalBeforeTheOldestBaseBackupAndNotWhileItIsLocked() throws Exception {
        PruneWal prune = new PruneWal(backups.config(), bunker.stores(), backups.catalog(), ManifestTrust.of(List.of(), bunker.config().dataDir()));
        awaitStored();
        assertThat(prune.run(true).removed()).as("no base backup yet: all WAL may be needed").isEmpty();
        Manifest base = backups.take().run("app", "base");
        try (Writer writer = new Writer()) {
            Thread.sleep(1000);
        }
        backups.take().run("app", "base");
        awaitStored();
        String firstKept = Wal.segmentName(base.wal().timeline(), Wal.parseLsn(base.wal().start()), 16L << 20);
        PruneWal.Report dry = prune.run(true);
        assertThat(dry.removed()).isNotEmpty().allMatch(k -> k.substring(k.lastIndexOf('/') + 1).compareTo(firstKept) < 0);
        PruneWal.Report r = prune.run(false);
        assertThat(r.removed()).isEmpty();
        assertThat(r.lockedStill()).hasSameSizeAs(dry.removed());
        for (String k : dry.removed()) {
            String store = k.substring(0, k.indexOf(':'));
            assertThat(bunker.store(store).stat(k.substring(k.indexOf(':') + 1))).as(k).isPresent();
        }
    }

    @Test
    void serveTakesBaseBackupsOnPitrsScheduleAndTheDatabasesRpoIsTheWalLag() throws Exception {
        awaitStored();
        backups.runDue(); // the dump fails (the role reads nothing), the base backup is due: none yet
        assertThat(backups.catalog().list()).extracting(e -> e.manifest().kind()).containsExactly("base");
        assertThat(backups.lastBackups().get("app")).containsKeys("dump", "snapshot", "base");
        backups.runDue(); // not due again for a day
        assertThat(backups.catalog().list()).hasSize(1);
        try (Engine engine = Engine.on(bunker)) {
            var db = engine.recovery().stream().filter(sc -> sc.name().startsWith("database lost")).findFirst().orElseThrow();
            assertThat(db.rpo()).startsWith("app: changes since").contains("the WAL stored last");
        }
    }

    @Test
    void theDailyDrillRestoresTheSourceAsItWasAMinuteAgoStartsItAndChecksIt() throws Exception {
        DrillOf drill = new DrillOf();
        var failed = drill.at(Instant.now().plusSeconds(60));
        assertThat(failed.ok()).isFalse();
        assertThat(failed.log()).contains("no base backup of source app");

        backups.take().run("app", "base");
        Instant writing;
        try (Writer writer = new Writer()) {
            Thread.sleep(1500);
            writing = sourceNow();
            Thread.sleep(1500);
        }
        awaitStored();
        var run = drill.at(writing.plus(java.time.Duration.ofSeconds(60)));
        assertThat(run.ok()).as(run.log()).isTrue();
        assertThat(run.kind()).isEqualTo("db");
        assertThat(run.log()).contains("point-in-time drill of app").contains("ok   freshness of public.events.at")
                .contains("ok   sql: (select count(*) from events) > 0").contains("ok   replay and promote");
        assertThat(run.backupAgeSeconds()).as("the achieved RPO: the restored data is about a minute behind").isBetween(59.0, 62.0);
        try (var left = Files.list(bunker.config().dataDir().resolve("tmp"))) {
            assertThat(left.toList()).as("the drill leaves nothing behind").isEmpty();
        }
    }

    @Test
    void aSlotMadeAgainIsAGapThatAlertsUntilABaseBackupIsTakenAfterIt() throws Exception {
        backups.take().run("app", "base");
        try (Writer writer = new Writer()) {
            Thread.sleep(800);
        }
        awaitStored();
        streams.close(); // serve down (it stores what it holds first); meanwhile someone drops Bunker's slot and the source writes on
        WalLedger ledger = new WalLedger(bunker.database().dataSource());
        String storedEnd = ledger.row("app").durableLsn();
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("select pg_drop_replication_slot('bunker_app')");
            s.execute("insert into events (note) values ('never stored')");
            s.execute("select pg_switch_wal()");
            s.execute("insert into events (note) values ('never stored either')");
            s.execute("select pg_switch_wal()");
            s.execute("checkpoint"); // a slot made now reserves WAL from this checkpoint on: what came before is gone for Bunker
        }
        streams = new WalStreams(backups.config(), bunker.stores(), bunker.config().dataDir(), Clock.systemUTC(), ledger);
        streams.start();
        awaitStored();
        WalLedger.Row row = ledger.row("app");
        assertThat(row.gapFrom()).as("where the stored WAL ended").isEqualTo(storedEnd);
        assertThat(Wal.parseLsn(row.gapTo())).isGreaterThan(Wal.parseLsn(storedEnd));
        // No restore crosses the gap: a time after it is refused, naming the gap and what restores, and nothing is written.
        commitAfterTarget();
        Instant afterGap = sourceNow();
        commitAfterTarget();
        Path restored = dir.resolve("restored");
        assertThatThrownBy(() -> new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir())
                .run("app", afterGap, restored, AgeCrypto.readIdentities(key), l -> {}))
                .isInstanceOf(PitrException.class).hasMessageContaining("no WAL from " + storedEnd).hasMessageContaining("restorable: ");
        assertThat(restored).doesNotExist();

        dev.bunker.Engine engine = Engine.on(bunker);
        try {
            engine.alerts().evaluate();
            assertThat(engine.alerts().list()).filteredOn(a -> a.name().equals("wal-gap:app")).singleElement().satisfies(a -> {
                assertThat(a.firing()).isTrue();
                assertThat(a.message()).contains(storedEnd).contains("bunker db backup --kind base --source app");
            });
            Thread.sleep(20);
            backups.take().run("app", "base");
            engine.alerts().evaluate();
            assertThat(engine.alerts().list()).filteredOn(a -> a.name().equals("wal-gap:app")).singleElement()
                    .satisfies(a -> assertThat(a.firing()).as("a base backup after the gap: later times restore again").isFalse());
        } finally {
            engine.close();
        }
    }

    /** The database drill as serve runs it, on a clock set to when it should run. */
    final class DrillOf {
        dev.bunker.drill.DrillRuns.Run at(Instant when) throws Exception {
            Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(Instant.now(), when));
            var drill = new dev.bunker.drill.DatabaseDrill(bunker.config(), bunker.stores(),
                    new dev.bunker.drill.DrillRuns(bunker.database().dataSource()), clock);
            return drill.run(null, false);
        }
    }

    @Test
    void aSourceThatRestartsMidStreamLosesNoWal() throws Exception {
        // A source whose data directory survives a restart, on a fixed port, so the stream's URL stays right.
        streams.close();
        Path data = dir.resolve("source-data");
        int port = source.getPort();
        source.close();
        source = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
        createEvents(source);
        streams = new WalStreams(backups.config(), bunker.stores(), bunker.config().dataDir(), Clock.systemUTC(),
                new WalLedger(bunker.database().dataSource()));
        streams.start();
        Manifest base = backups.take().run("app", "base");
        Writer writer = new Writer();
        Thread.sleep(1000);
        source.close(); // the writer fails, the stream loses its source mid-segment
        writer.thread.join(10_000);
        long written;
        synchronized (writer.rows) {
            written = writer.rows.size();
        }
        source = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
        try (Writer more = new Writer()) {
            Thread.sleep(1000);
        }
        awaitStored();
        ManifestTrust trust = ManifestTrust.of(List.of(), bunker.config().dataDir());
        WalArchive.Listed listed = WalArchive.list(bunker.store("vault"), "app", systemId(), trust, null, null);
        WalArchive.Coverage cov = WalArchive.coverage(listed.chunks(), base.wal().timeline(), listed.chunks().get(0).startLsn());
        assertThat(cov.gap()).isNull();
        assertThat(cov.reached()).isGreaterThanOrEqualTo(Wal.parseLsn(streams.status().get(0).durableLsn()));

        Instant target = sourceNow();
        long expected;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from events")) {
            rs.next();
            expected = rs.getLong(1);
        }
        commitAfterTarget();
        Path restored = dir.resolve("restored");
        new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir())
                .run("app", target, restored, AgeCrypto.readIdentities(key), l -> {});
        try (EmbeddedPostgres pg = startOn(restored); Connection c = promoted(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*), count(*) filter (where note = 'live') from events")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(expected);
            assertThat(rs.getLong(2)).as("the rows written before the source stopped, and after").isGreaterThan(written);
        }
    }
}
