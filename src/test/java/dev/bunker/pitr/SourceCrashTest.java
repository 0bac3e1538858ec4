package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source killed with SIGKILL (the postmaster and every backend, as a crash) while a writer commits and the WAL streams:
 * once it has recovered and written more, the stored WAL has no gap and a restore to the latest state holds every row
 * whose commit the source had acknowledged before it died.
 */
@Timeout(300)
class SourceCrashTest {
    @TempDir Path dir;
    EmbeddedPostgres source;
    Path data;
    int port;
    Path key;
    StreamingBunker rig;
    Bunker bunker;
    Backups backups;
    WalStreams streams;

    @BeforeEach
    void setUp() throws Exception {
        data = dir.resolve("source-data");
        source = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).start(); // kept: the crash must not take it
        port = source.getPort();
        PointInTimeRestoreTest.createEvents(source);
        key = dir.resolve("key.txt");
        rig = StreamingBunker.start(dir, port, key);
        bunker = rig.bunker();
        backups = rig.backups();
        streams = rig.streams();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rig != null) rig.close();
        if (source != null) source.close();
    }

    /** Inserts rows with synchronous commits until the source dies, keeping the id of each row whose commit came back. */
    Set<Long> writeUntilKilled(AtomicBoolean stop) {
        Set<Long> acknowledged = new TreeSet<>();
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             PreparedStatement ps = c.prepareStatement("insert into events (note) values ('acked') returning id")) {
            s.execute("set synchronous_commit = on"); // the embedded server's default is off: an acknowledged commit is then not durable
            while (!stop.get()) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    synchronized (acknowledged) {
                        acknowledged.add(rs.getLong(1));
                    }
                }
            }
        } catch (java.sql.SQLException expected) {
            // the source died under the writer
        }
        return acknowledged;
    }

    /** SIGKILL to the postmaster and all its children at once: nothing shuts down cleanly. */
    void killSource() throws Exception {
        String pid = Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim();
        List<String> kill = new ArrayList<>(List.of("kill", "-9", pid));
        Process children = new ProcessBuilder("pgrep", "-P", pid).start();
        kill.addAll(new String(children.getInputStream().readAllBytes()).lines().toList());
        children.waitFor();
        assertThat(new ProcessBuilder(kill).inheritIO().start().waitFor()).isZero();
        source.close(); // zonky's own stop fails (nothing runs) and releases its lock on the folder
    }

    @Test
    void aSourceKilledMidStreamLosesNoAcknowledgedCommitAndLeavesNoGap() throws Exception {
        Manifest base = backups.take().run("app", "base");
        AtomicBoolean stop = new AtomicBoolean();
        var writing = java.util.concurrent.Executors.newSingleThreadExecutor().submit(() -> writeUntilKilled(stop));
        Thread.sleep(1500);
        killSource();
        Set<Long> acknowledged = writing.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(acknowledged).hasSizeGreaterThan(10);

        source = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start(); // crash recovery
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("set synchronous_commit = on");
            s.execute("insert into events (note) values ('after the crash')");
        }
        PointInTimeRestoreTest.awaitStored(source, streams);

        ManifestTrust trust = ManifestTrust.of(List.of(), bunker.config().dataDir());
        String systemId = base.wal().systemId();
        for (String store : List.of("vault", "shelter")) {
            WalArchive.Listed listed = WalArchive.list(bunker.store(store), "app", systemId, trust, null, null);
            WalArchive.Coverage cov = WalArchive.coverage(listed.chunks(), base.wal().timeline(), listed.chunks().get(0).startLsn());
            assertThat(cov.gap()).as(store).isNull();
            assertThat(cov.reached()).as(store).isGreaterThanOrEqualTo(Wal.parseLsn(streams.status().get(0).durableLsn()));
        }

        Path restored = dir.resolve("restored");
        new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir())
                .run("app", RecoveryTarget.at(null), restored, AgeCrypto.readIdentities(key), l -> {});
        try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(restored); Connection c = PointInTimeRestoreTest.promoted(pg);
             Statement s = c.createStatement()) {
            Set<Long> present = new TreeSet<>();
            try (ResultSet rs = s.executeQuery("select id from events where note = 'acked'")) {
                while (rs.next()) present.add(rs.getLong(1));
            }
            assertThat(present).as("every commit the source acknowledged before it was killed").containsAll(acknowledged);
            try (ResultSet rs = s.executeQuery("select count(*) from events where note = 'after the crash'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("and what it wrote once recovered").isEqualTo(1);
            }
        }
    }
}
