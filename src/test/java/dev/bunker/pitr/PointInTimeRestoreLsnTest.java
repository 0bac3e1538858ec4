package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restores to a WAL position ({@code db restore --to-lsn}) against a real PostgreSQL cluster streaming into local stores:
 * the position read just before a DELETE's commit undoes it, the one just after keeps it, and positions outside what is
 * stored are refused before anything is written.
 */
@Timeout(300)
class PointInTimeRestoreLsnTest {
    @TempDir Path dir;
    EmbeddedPostgres source;
    Path key;
    StreamingBunker rig;
    Bunker bunker;
    Backups backups;
    WalStreams streams;

    @BeforeEach
    void setUp() throws Exception {
        source = EmbeddedPostgres.builder().start();
        PointInTimeRestoreTest.createEvents(source);
        key = dir.resolve("key.txt");
        rig = StreamingBunker.start(dir, source.getPort(), key);
        bunker = rig.bunker();
        backups = rig.backups();
        streams = rig.streams();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rig != null) rig.close();
        if (source != null) source.close();
    }

    String sql(Statement s, String query) throws Exception {
        try (ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getString(1);
        }
    }

    long count(Path restored, String where) throws Exception {
        try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(restored); Connection c = PointInTimeRestoreTest.promoted(pg);
             Statement s = c.createStatement()) {
            return Long.parseLong(sql(s, "select count(*) from events where " + where));
        }
    }

    @Test
    void theLsnBeforeADeletesCommitUndoesItAndTheOneAfterKeepsIt() throws Exception {
        Manifest base = backups.take().run("app", "base");
        long beforeCommit;
        long afterCommit;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("set synchronous_commit = on");
            s.execute("insert into events (note) values ('kept')");
            c.setAutoCommit(false);
            assertThat(s.executeUpdate("delete from events where note like 'before %'")).isEqualTo(1000);
            beforeCommit = Wal.parseLsn(sql(s, "select pg_current_wal_insert_lsn()")); // the commit's record starts here or later
            c.commit();
            afterCommit = Wal.parseLsn(sql(s, "select pg_current_wal_insert_lsn()"));
            c.setAutoCommit(true);
            s.execute("insert into events (note) values ('after')");
        }
        PointInTimeRestoreTest.awaitStored(source, streams);
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        List<String> identities = AgeCrypto.readIdentities(key);

        Path undone = dir.resolve("undone");
        PointInTimeRestore.Result r = pitr.run("app", RecoveryTarget.beforeLsn(beforeCommit), undone, identities, l -> {});
        assertThat(r.baseBackup()).isEqualTo(base.id());
        assertThat(r.targetLsn()).isEqualTo(Wal.formatLsn(beforeCommit));
        assertThat(r.recoveryTarget()).as("replay stops at the position: a commit follows it").isEqualTo(Wal.formatLsn(beforeCommit));
        assertThat(Wal.parseLsn(r.lastCommitLsn())).as("the last commit kept ('kept') starts before the position").isLessThan(beforeCommit);
        assertThat(count(undone, "note like 'before %'")).as("the DELETE is undone").isEqualTo(1000);
        assertThat(count(undone, "note = 'kept'")).as("committed before the position").isEqualTo(1);
        assertThat(count(undone, "note = 'after'")).isZero();

        Path kept = dir.resolve("kept");
        r = pitr.run("app", RecoveryTarget.beforeLsn(afterCommit), kept, identities, l -> {});
        assertThat(Wal.parseLsn(r.lastCommitLsn())).as("the DELETE's commit is kept").isBetween(beforeCommit, afterCommit - 1);
        assertThat(count(kept, "note like 'before %'")).as("the DELETE is kept").isZero();
        assertThat(count(kept, "note = 'after'")).isZero();
    }

    @Test
    void aFullDiskWhereTheWalIsAssembledBlamesThisMachineAndLeavesNothing() throws Exception {
        backups.take().run("app", "base");
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("set synchronous_commit = on");
            s.execute("insert into events (note) select repeat('w', 200) from generate_series(1, 5000)"); // about 1.5 MB of WAL
        }
        PointInTimeRestoreTest.awaitStored(source, streams);
        Path small = dir.resolve("small-disk");
        try (var full = dev.bunker.testing.Mounts.smallDisk(small, "256k")) {
            Path restored = dir.resolve("restored");
            // Before: "No space left on device", and nothing said where or whose fault it was.
            // elsewhere than the data folder, which holds the signing key: the config names the key (backups.signers), as on another machine
            BackupsConfig b = backups.config();
            BackupsConfig trusting = new BackupsConfig(b.recipients(), b.stores(), b.sources(), b.dump(), b.snapshot(), b.pgBin(), b.allowSuperuser(),
                    List.of(dev.bunker.backup.SigningKey.publicKeyIn(bunker.config().dataDir()).orElseThrow()), b.keepNewest(), b.base(), b.mariaDbBin());
            assertThatThrownBy(() -> new PointInTimeRestore(trusting, bunker.stores(), backups.restore(), small)
                    .run("app", RecoveryTarget.at(null), restored, AgeCrypto.readIdentities(key), l -> {}))
                    .isInstanceOf(PitrException.class).hasMessageContaining("unable to write " + small).hasMessageContaining("No space left on device")
                    .hasMessageContaining("the stored WAL was not at fault").hasMessageContaining("--data-dir");
            assertThat(restored).doesNotExist();
            try (var left = java.nio.file.Files.walk(small)) {
                assertThat(left.filter(java.nio.file.Files::isRegularFile).toList()).as("the assembled WAL is gone").isEmpty();
            }
        }
    }

    @Test
    void positionsOutsideWhatIsStoredAreRefusedBeforeAnythingIsWritten() throws Exception {
        long beforeBase;
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            beforeBase = Wal.parseLsn(sql(s, "select pg_current_wal_insert_lsn()"));
        }
        Manifest base = backups.take().run("app", "base");
        PointInTimeRestoreTest.awaitStored(source, streams);
        PointInTimeRestore pitr = new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir());
        List<String> identities = AgeCrypto.readIdentities(key);
        Path restored = dir.resolve("restored");
        assertThatThrownBy(() -> pitr.run("app", RecoveryTarget.beforeLsn(beforeBase), restored, identities, l -> {}))
                .isInstanceOf(PitrException.class).matches(e -> ((PitrException) e).callersFault())
                .hasMessageContaining("WAL position " + Wal.formatLsn(beforeBase) + " is before the oldest base backup")
                .hasMessageContaining("the earliest position to restore to is " + base.wal().end());
        long past = Wal.parseLsn(streams.status().get(0).durableLsn()) + (64L << 20);
        assertThatThrownBy(() -> pitr.run("app", RecoveryTarget.beforeLsn(past), restored, identities, l -> {}))
                .isInstanceOf(PitrException.class).matches(e -> ((PitrException) e).callersFault())
                .hasMessageContaining("cannot be restored to WAL position " + Wal.formatLsn(past))
                .hasMessageContaining("restorable: " + base.wal().end() + " to ");
        assertThat(restored).doesNotExist();
        // `db timeline` shows the same window of positions
        WalTimeline.Window w = WalTimeline.of(bunker.store("vault"), "app", backups.restore().bases("app"),
                dev.bunker.backup.ManifestTrust.of(List.of(), bunker.config().dataDir())).windows().get(0);
        assertThat(w.fromLsn()).isEqualTo(base.wal().end());
        assertThat(Wal.parseLsn(w.toLsn())).isGreaterThanOrEqualTo(Wal.parseLsn(streams.status().get(0).durableLsn()));
    }
}
