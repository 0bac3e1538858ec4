package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.HangingStore;
import dev.bunker.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process streaming WAL SIGKILLed in the middle of storing a chunk (its data in both stores, its metadata in one):
 * the slot had not moved past the chunk, so a new process resumes there; no WAL is lost, no gap is left, and a restore
 * after it has every row.
 */
@Timeout(240)
class WalStreamCrashTest {
    @TempDir Path dir;

    /** Child: streams WAL with a shelter that, at the third chunk's metadata, says so and hangs before storing it. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        Path marker = Path.of(args[1]);
        Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> !s.name().equals("shelter") ? s
                : new HangingStore(s, key -> key.endsWith(WalChunk.META_SUFFIX), 3, marker));
        Engine.walStreams(bunker).start();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void killedWhileStoringAChunkTheNextProcessResumesWithoutAGap() throws Exception {
        try (EmbeddedPostgres source = EmbeddedPostgres.builder().start()) {
            try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("create role streamer login replication");
                s.execute("create table events (id bigserial primary key, at timestamptz not null default clock_timestamp())");
            }
            String recipient = AppDatabases.ageKey(dir.resolve("key.txt"));
            String systemId;
            try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select system_identifier::text from pg_control_system()")) {
                rs.next();
                systemId = rs.getString(1);
            }
            Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), """
                    data-dir: %s
                    backups:
                      recipients: ["%s"]
                      stores: [vault, shelter]
                      sources:
                        app: {url: "jdbc:postgresql://127.0.0.1:%d/postgres", user: streamer, pitr: {flush-every: 300ms}}
                    """.formatted(dir.resolve("data"), recipient, source.getPort()));
            BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                    while (!stop.get()) {
                        s.execute("insert into events default values");
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Backups backups = Engine.backups(bunker)) {
                Path marker = dir.resolve("storing");
                Process child = ChildJvm.start(dir.resolve("child.log"), WalStreamCrashTest.class, configFile.toString(), marker.toString());
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (!Files.exists(marker) && System.nanoTime() < deadline) {
                        if (writer.getState() == Thread.State.NEW && Files.exists(dir.resolve("child.log"))
                                && Files.readString(dir.resolve("child.log")).contains("streaming WAL of app")) {
                            backups.take().run("app", "base"); // once the child streams (its slot exists), a base backup to restore from
                            writer.start();
                        }
                        Thread.sleep(100);
                    }
                    assertThat(marker).as("the child was storing a chunk").exists();
                } finally {
                    child.destroyForcibly().waitFor();
                }
                String interrupted = Files.readString(marker).strip();
                assertThat(bunker.store("shelter").stat(interrupted)).as("the killed chunk's metadata never reached the shelter").isEmpty();

                try (WalStreams streams = Engine.walStreams(bunker)) {
                    streams.start();
                    Thread.sleep(1500);
                    stop.set(true);
                    writer.join(10_000);
                    long end;
                    try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("select pg_current_wal_flush_lsn()")) {
                        rs.next();
                        end = Wal.parseLsn(rs.getString(1));
                    }
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (System.nanoTime() < deadline && (streams.status().get(0).durableLsn() == null
                            || Wal.parseLsn(streams.status().get(0).durableLsn()) < end)) {
                        Thread.sleep(100);
                    }
                    ManifestTrust trust = ManifestTrust.of(List.of(), config.dataDir());
                    for (String store : List.of("vault", "shelter")) {
                        WalArchive.Listed listed = WalArchive.list(bunker.store(store), "app", systemId, trust, null, null);
                        WalArchive.Coverage cov = WalArchive.coverage(listed.chunks(), 1, listed.chunks().get(0).startLsn());
                        assertThat(cov.gap()).as(store).isNull();
                        assertThat(cov.reached()).as(store).isGreaterThanOrEqualTo(end);
                    }
                }
                long rows;
                Instant target;
                try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("select count(*), clock_timestamp() from events")) {
                    rs.next();
                    rows = rs.getLong(1);
                    target = rs.getTimestamp(2).toInstant();
                }
                try (WalStreams streams = Engine.walStreams(bunker)) { // a commit after the target, stored
                    streams.start();
                    try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                        Thread.sleep(20);
                        s.execute("insert into events default values");
                    }
                    Thread.sleep(2000);
                }
                Path restored = dir.resolve("restored");
                new PointInTimeRestore(config.backups(), bunker.stores(), backups.restore(), config.dataDir())
                        .run("app", target, restored, AgeCrypto.readIdentities(dir.resolve("key.txt")), l -> {});
                try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(restored); Connection c = PointInTimeRestoreTest.promoted(pg);
                     Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from events")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(rows).isGreaterThan(100);
                }
            } finally {
                stop.set(true);
            }
        }
    }
}
