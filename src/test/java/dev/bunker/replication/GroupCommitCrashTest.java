package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.store.ForwardingStore;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.Publication;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import dev.bunker.testing.Unwrapped;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process SIGKILLed between a group commit's data flush and its transaction: the batch's copies are
 * durable and visible in the stores but recorded nowhere, so none counts; after the leases run out the
 * jobs run again, find the copies, verify them and count them, and nothing is lost or written twice.
 */
@Timeout(180)
class GroupCommitCrashTest {
    @TempDir Path dir;

    /** Child: replicates with a shelter that, once a batch of its copies is durable, says so and hangs before returning. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        Path flushed = Path.of(args[1]);
        Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> !s.name().equals("shelter") ? s : new ForwardingStore(s) {
            @Override
            public List<Publication.Outcome> publish(List<Publication> batch) {
                List<Publication.Outcome> out = super.publish(batch);
                try {
                    Files.writeString(flushed, out.size() + " copies durable\n");
                    Thread.sleep(Long.MAX_VALUE); // the batch's transaction never runs
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return out;
            }
        });
        Engine.replication(bunker).workers().start();
        System.out.println("workers started");
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void killedBetweenTheBatchFlushAndItsCommitNothingCountsThenEverythingIsFoundAndCounted() throws Exception {
        Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        String yaml = Files.readString(configFile).replace("retry-max: 1s}", "retry-max: 1s, batch: {claim: 16, commit-copies: 64, commit-wait: 200ms}}");
        Files.writeString(configFile, yaml);
        BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        Map<String, byte[]> objects = new HashMap<>();
        Random random = new Random(7);
        for (int i = 0; i < 40; i++) {
            byte[] data = new byte[64 * 1024 + i];
            random.nextBytes(data);
            objects.put("batch/" + i, data);
        }
        Path flushed = dir.resolve("flushed");
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
             Replication replication = Engine.replication(bunker)) {
            for (Map.Entry<String, byte[]> o : objects.entrySet()) {
                replication.ingest().put(o.getKey(), new ByteArrayInputStream(o.getValue()), o.getValue().length, null, null);
            }

            Process child = ChildJvm.start(dir.resolve("child.log"), GroupCommitCrashTest.class, configFile.toString(), flushed.toString());
            try {
                waitFor(flushed);
            } finally {
                child.destroyForcibly().waitFor();
            }

            // Flushed but not committed: copies sit durable in the shelter, and the ledger counts none of them.
            LocalStore shelter = (LocalStore) Unwrapped.of(bunker.store("shelter"));
            List<String> onDisk = new ArrayList<>();
            for (String key : objects.keySet()) if (Files.isRegularFile(shelter.pathOf(key))) onDisk.add(key);
            assertThat(onDisk).as("copies the killed batch made durable").isNotEmpty();
            assertThat(verifiedCopies(bunker, "shelter") + verifiedCopies(bunker, "vault")).isZero();

            long deadline = System.nanoTime() + 60_000_000_000L;
            while (pendingJobs(bunker) > 0 && System.nanoTime() < deadline) {
                if (!replication.workers().runOnce()) Thread.sleep(200);
            }
            assertThat(pendingJobs(bunker)).as("jobs left").isZero();
            assertThat(verifiedCopies(bunker, "shelter")).isEqualTo(objects.size());
            assertThat(verifiedCopies(bunker, "vault")).isEqualTo(objects.size());
            LockableStore vault = (LockableStore) bunker.store("vault");
            for (Map.Entry<String, byte[]> o : objects.entrySet()) {
                for (String store : List.of("vault", "shelter")) {
                    try (InputStream in = bunker.store(store).get(o.getKey())) {
                        assertThat(Sha256.hexOf(in.readAllBytes())).as(store + " " + o.getKey()).isEqualTo(Sha256.hexOf(o.getValue()));
                    }
                }
                LockState lock = vault.lockState(o.getKey());
                assertThat(lock.legalHold()).as("hold on " + o.getKey()).isTrue();
                assertThat(lock.retainUntil()).isAfter(Instant.now().plusSeconds(20 * 86_400));
            }
            for (String store : List.of("vault", "shelter")) {
                new LocalStore(store, dir.resolve(store), Clock.systemUTC()); // opening a store removes the killed process's staged files
                try (Stream<Path> temps = Files.walk(dir.resolve(store).resolve("tmp")).filter(Files::isRegularFile)) {
                    assertThat(temps.toList()).as("staged files left in " + store).isEmpty();
                }
            }
        }
    }

    private static void waitFor(Path marker) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(marker) && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(marker).as("the child flushed a batch").exists();
    }

    private static long verifiedCopies(Bunker bunker, String store) throws Exception {
        try (Connection c = bunker.database().connection();
             ResultSet rs = c.createStatement().executeQuery("select count(*) from copy_states where store = '" + store + "' and state = 'verified'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long pendingJobs(Bunker bunker) throws Exception {
        try (Connection c = bunker.database().connection();
             ResultSet rs = c.createStatement().executeQuery("select count(*) from replication_jobs")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
