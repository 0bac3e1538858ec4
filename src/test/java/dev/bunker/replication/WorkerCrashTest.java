package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.store.Sha256;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process SIGKILLed in the middle of a copy loses nothing: no half copy becomes visible, no
 * other worker takes the job while its lease runs, and after the lease another worker completes it.
 */
@Timeout(180)
class WorkerCrashTest {
    @TempDir Path dir;

    /** Child: one worker whose writes to the vault crawl, so the test can kill it mid-copy. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> {
            FaultyStore f = new FaultyStore(s);
            if (s.name().equals("vault")) f.putDelayMillisPerMiB = 4000;
            return f;
        });
        Replication replication = Engine.replication(bunker);
        replication.workers().start();
        System.out.println("worker started");
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void aWorkerKilledMidCopyLosesNothingAndItsJobCompletesAfterTheLease() throws Exception {
        Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        byte[] data = new byte[8 << 20];
        new Random(1).nextBytes(data);
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
             Replication replication = Engine.replication(bunker)) {
            replication.ingest().put("movie.mp4", new ByteArrayInputStream(data), data.length, null, null);

            Process child = ChildJvm.start(dir.resolve("child.log"), WorkerCrashTest.class, configFile.toString());
            try {
                waitForPartialWrite(dir.resolve("vault/tmp"));
            } finally {
                child.destroyForcibly().waitFor();
            }

            // Killed mid-copy: nothing half-made is visible and nothing counts as copied.
            assertThat(bunker.store("vault").stat("movie.mp4")).isEmpty();
            assertThat(replication.ledger().copies("movie.mp4")).noneMatch(c -> c.store().equals("vault") && c.state() == CopyState.VERIFIED);
            // The dead worker's lease still runs: nobody else may take the job yet.
            assertThat(replication.workers().runOnce()).isFalse();

            long deadline = System.nanoTime() + 15_000_000_000L;
            boolean ran = false;
            while (!ran && System.nanoTime() < deadline) {
                ran = replication.workers().runOnce();
                if (!ran) Thread.sleep(200);
            }
            assertThat(ran).as("job claimed again after the lease ran out").isTrue();
            for (String store : new String[] {"vault", "shelter"}) {
                try (InputStream in = bunker.store(store).get("movie.mp4")) {
                    assertThat(Sha256.hexOf(in.readAllBytes())).isEqualTo(Sha256.hexOf(data));
                }
            }
            assertThat(replication.ledger().copies("movie.mp4")).allMatch(c -> c.state() == CopyState.VERIFIED);
            try (Connection c = bunker.database().connection();
                 ResultSet rs = c.createStatement().executeQuery("select count(*) from replication_jobs")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
    }

    private static void waitForPartialWrite(Path tmp) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(tmp)) {
                try (Stream<Path> files = Files.walk(tmp).filter(Files::isRegularFile)) { // each process's own folder under tmp/
                    if (files.anyMatch(p -> size(p) > (1 << 20))) return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the child worker never started copying");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}
