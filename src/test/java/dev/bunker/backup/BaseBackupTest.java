package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockableStore;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base backups of a real PostgreSQL cluster (a throwaway embedded server) with the system pg_basebackup, encrypted with
 * age into real locked stores, restored into a data directory by Bunker and by hand with the age, zstd and tar CLIs,
 * and started: the restored cluster holds exactly the source's rows.
 */
@Timeout(240)
class BaseBackupTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    final Map<String, FaultyStore> faulty = new HashMap<>();
    EmbeddedPostgres source;
    Path key;
    String recipient;
    Bunker bunker;
    Backups backups;

    @BeforeEach
    void setUp() throws Exception {
        source = EmbeddedPostgres.builder().start();
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("create role basebackup login replication");
            s.execute("create role plain login");
            s.execute("create table orders (id bigserial primary key, item text not null, placed_at timestamptz not null default now())");
            s.execute("insert into orders (item) select 'item ' || g from generate_series(1, 50000) g");
        }
        key = dir.resolve("key.txt");
        recipient = AppDatabases.ageKey(key);
        open("basebackup");
    }

    void open(String role) {
        open(role, null);
    }

    void open(String role, BunkerConfig.Pitr pitr) {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                Map.of("app", new BackupSource("app", "jdbc:postgresql://127.0.0.1:" + source.getPort() + "/postgres", role, null, pitr)),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false, List.of(), BackupsConfig.KEEP_NEWEST,
                new BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3));
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b);
        bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        backups = Engine.backups(bunker);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        if (source != null) source.close();
    }

    static String fingerprint(EmbeddedPostgres pg) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) || ':' || md5(string_agg(o::text, '|' order by o.id)) || ':' || pg_is_in_recovery() from orders o")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Starts PostgreSQL on a restored data directory (it replays the WAL the backup carries, then accepts connections). */
    static EmbeddedPostgres startOn(Path dataDir) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPGStartupWait(Duration.ofSeconds(90)).start();
    }

    @Test
    void aBaseBackupIsLockedAndRestoresIntoADataDirectoryThatStartsWithTheSourcesRows() throws Exception {
        String expected = fingerprint(source);
        Manifest m = backups.take().run("app", "base");
        assertThat(m.kind()).isEqualTo("base");
        assertThat(m.wal()).isNotNull();
        assertThat(m.wal().start()).matches("[0-9A-F]+/[0-9A-F]+");
        assertThat(m.wal().timeline()).isEqualTo(1);
        assertThat(m.rowCounts()).isEmpty();
        assertThat(backups.catalog().list()).extracting(e -> e.manifest().id()).containsExactly(m.id());
        for (String store : List.of("vault", "shelter")) {
            assertThat(((LockableStore) bunker.store(store)).lockState(m.dataKey()).retainUntil()).isAfter(clock.instant().plus(Duration.ofDays(13)));
        }
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("insert into orders (item) values ('after the backup')"); // not in the restore
        }

        // "latest" for a dump restore or the drill never means a base backup; for --target-dir it does.
        RestoreBackup restore = backups.restore();
        assertThatThrownBy(() -> restore.find("latest", "app")).hasMessageContaining("no backup yet");
        Manifest found = restore.find("latest", "app", true);
        assertThat(found.id()).isEqualTo(m.id());
        assertThatThrownBy(() -> restore.run(found, "postgresql://postgres@127.0.0.1:1/x", AgeCrypto.readIdentities(key), false, l -> {}))
                .hasMessageContaining("is a base backup").hasMessageContaining("--target-dir");

        Path restored = dir.resolve("restored");
        RestoreBackup.BaseResult r = restore.runBase(found, restored, AgeCrypto.readIdentities(key), l -> {});
        assertThat(r.files()).isGreaterThan(100);
        assertThat(Files.getPosixFilePermissions(restored)).containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE, java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
        try (EmbeddedPostgres pg = startOn(restored)) {
            assertThat(fingerprint(pg)).isEqualTo(expected);
        }
        assertThatThrownBy(() -> restore.runBase(found, restored, AgeCrypto.readIdentities(key), l -> {}))
                .hasMessageContaining("is not empty");

        // Without Bunker: age, zstd and tar, as the README shows.
        Path byHand = dir.resolve("by-hand");
        Files.createDirectories(byHand);
        Path data = ((LocalStore) faulty.get("shelter").real()).pathOf(m.dataKey());
        Process p = new ProcessBuilder("sh", "-c", "age -d -i \"$1\" < \"$2\" | zstd -d | tar --no-same-owner -x -C \"$3\" && chmod 700 \"$3\"", "sh",
                key.toString(), data.toString(), byHand.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        try (EmbeddedPostgres pg = startOn(byHand)) {
            assertThat(fingerprint(pg)).isEqualTo(expected);
        }
    }

    @Test
    void aSourcesOwnPitrKeepAndLockGoToItsBaseBackupsAndItsWal() throws Exception {
        // backups.base says 14d and 14d; the source's pitr: {keep: 3d, lock: 2d} wins for it
        open("basebackup", new BunkerConfig.Pitr("bunker_app", Duration.ofSeconds(4), Duration.ofDays(1), false, Duration.ofDays(3), Duration.ofDays(2)));
        Manifest m = backups.take().run("app", "base");
        java.time.Instant started = m.startedAt();
        assertThat(m.keepUntil()).isEqualTo(started.plus(Duration.ofDays(3)));
        assertThat(m.retainUntil()).isEqualTo(started.plus(Duration.ofDays(2)).plusSeconds(1));
        for (String store : List.of("vault", "shelter")) {
            assertThat(((LockableStore) bunker.store(store)).lockState(m.dataKey()).retainUntil()).as(store).isEqualTo(m.retainUntil());
        }
        java.time.Instant received = clock.instant();
        byte[] wal = "some WAL".getBytes(StandardCharsets.US_ASCII);
        dev.bunker.pitr.WalChunk chunk = new dev.bunker.pitr.WalUploader(backups.config(), bunker.stores(), bunker.config().dataDir())
                .upload("app", "7000000000000000001", 1, 16L << 20, 0, wal, wal.length, received, received);
        for (String store : List.of("vault", "shelter")) {
            assertThat(((LockableStore) bunker.store(store)).lockState(chunk.dataKey()).retainUntil()).as(store)
                    .isEqualTo(received.plus(Duration.ofDays(2)).plusSeconds(1));
        }
    }

    @Test
    void aRoleWithoutReplicationIsToldWhatToGrantAndNothingIsRecorded() throws Exception {
        open("plain");
        assertThatThrownBy(() -> backups.take().run("app", "base")).hasMessageContaining("may not take base backups")
                .hasMessageContaining("alter role plain replication");
        assertThat(backups.catalog().list()).isEmpty();
    }

    @Test
    void aSourceThatStopsMidBackupLeavesNoBackup() throws Exception {
        // The upload stalls at its start, so pg_basebackup is mid-stream (its pipe full) when the source stops.
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        faulty.get("vault").putGate = gate;
        var taking = java.util.concurrent.Executors.newSingleThreadExecutor().submit(() -> backups.take().run("app", "base"));
        Thread.sleep(1500);
        source.close();
        source = null;
        gate.countDown();
        assertThatThrownBy(() -> taking.get(120, TimeUnit.SECONDS)).hasMessageContaining("pg_basebackup failed");
        faulty.get("vault").putGate = null;
        assertThat(backups.catalog().list()).isEmpty();
        for (String store : List.of("vault", "shelter")) {
            assertThat(bunker.store(store).list(Manifest.ROOT, null, 100).objects()).as("nothing published in " + store)
                    .noneMatch(o -> o.key().endsWith(Manifest.SUFFIX) || o.key().endsWith(Manifest.DATA_SUFFIX));
        }
        // and with the source gone, the next attempt says so
        assertThatThrownBy(() -> backups.take().run("app", "base")).hasMessageContaining("unable to connect");
    }

    @Test
    void aTarWithAnEntryOutsideTheDirectoryIsRefusedAndLeavesNothing() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (String name : List.of("PG_VERSION", "../escaped")) {
                byte[] body = "15\n".getBytes(StandardCharsets.US_ASCII);
                TarArchiveEntry e = new TarArchiveEntry(name, true);
                e.setSize(body.length);
                tar.putArchiveEntry(e);
                tar.write(body);
                tar.closeArchiveEntry();
            }
        }
        Path target = dir.resolve("target");
        assertThatThrownBy(() -> BaseBackups.extract(new ByteArrayInputStream(bytes.toByteArray()), target))
                .hasMessageContaining("outside the data directory").hasMessageContaining("../escaped");
        assertThat(dir.resolve("escaped")).doesNotExist();
    }

    @Test
    void aCorruptCopyIsExtractedNoFurtherThanItsBadChunkAndTheNextStoreRestoresInstead() throws Exception {
        String expected = fingerprint(source);
        Manifest m = backups.take().run("app", "base");
        Path vaultCopy = ((LocalStore) faulty.get("vault").real()).pathOf(m.dataKey());
        byte[] bytes = Files.readAllBytes(vaultCopy);
        bytes[bytes.length * 3 / 4] ^= 0x40; // late in the copy: much of the tar is extracted before age finds it
        Files.write(vaultCopy, bytes);
        Path restored = dir.resolve("restored");
        List<String> progress = new java.util.ArrayList<>();
        RestoreBackup.BaseResult r = backups.restore().runBase(m, restored, AgeCrypto.readIdentities(key), progress::add);
        assertThat(r.store()).isEqualTo("shelter");
        assertThat(progress).anyMatch(l -> l.contains("used store 'shelter' after: vault: the copy is corrupt"));
        try (EmbeddedPostgres pg = startOn(restored)) {
            assertThat(fingerprint(pg)).isEqualTo(expected);
        }

        // Both copies bad: nothing is left in the directory.
        Path shelterCopy = ((LocalStore) faulty.get("shelter").real()).pathOf(m.dataKey());
        Files.write(shelterCopy, bytes);
        Path again = dir.resolve("again");
        assertThatThrownBy(() -> backups.restore().runBase(m, again, AgeCrypto.readIdentities(key), l -> {}))
                .hasMessageContaining("could not be read whole from any backup store");
        try (var left = Files.list(again)) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void aTargetDirectoryOnAFullDiskBlamesThatDiskNotTheBackupAndIsLeftEmpty() throws Exception {
        Manifest m = backups.take().run("app", "base");
        Path small = dir.resolve("small-disk");
        try (var full = dev.bunker.testing.Mounts.smallDisk(small, "1m")) { // far less than the cluster's files
            Path restored = small.resolve("data");
            List<String> progress = new java.util.ArrayList<>();
            // Before: the vault copy was called corrupt, the shelter's downloaded for nothing, and both blamed.
            assertThatThrownBy(() -> backups.restore().runBase(m, restored, AgeCrypto.readIdentities(key), progress::add))
                    .hasMessageContaining("unable to write").hasMessageContaining("No space left on device")
                    .hasMessageContaining("the copy in store 'vault' was not at fault").hasMessageContaining("--target-dir")
                    .hasMessageNotContaining("corrupt");
            assertThat(progress).noneMatch(l -> l.contains("shelter"));
            try (var left = Files.walk(restored)) {
                assertThat(left.filter(Files::isRegularFile).toList()).isEmpty();
            }
        }
    }
}
