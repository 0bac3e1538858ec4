package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.S3MockServer;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The replication engine end to end, in one process, on a real PostgreSQL and real stores (local folders and S3Mock). */
@Timeout(120)
class ReplicationTest {
    @TempDir Path dir;
    final Random random = new Random(7);
    final Map<String, FaultyStore> faulty = new HashMap<>();
    /** Backoffs and breaker cooldowns pass by moving this clock, not by sleeping. */
    final MutableClock clock = MutableClock.atNow();
    Bunker bunker;
    Replication replication;

    void open(BunkerConfig config) {
        bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        replication = Engine.replication(bunker);
    }

    @AfterEach
    void close() {
        if (replication != null) replication.close();
        if (bunker != null) bunker.close();
    }

    byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    Ingest.Stored put(String key, byte[] data) throws Exception {
        return replication.ingest().put(key, new ByteArrayInputStream(data), data.length, null, null);
    }

    byte[] read(Store store, String key) throws IOException {
        try (InputStream in = store.get(key)) {
            return in.readAllBytes();
        }
    }

    Map<String, String> states(String key) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (Ledger.CopyRow c : replication.ledger().copies(key)) out.put(c.store(), c.state().toString());
        return out;
    }

    long count(String sql) throws Exception {
        try (Connection c = bunker.database().connection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void everyObjectIsVerifiedOnEveryTargetIncludingS3AndTheVaultCopyIsLocked() throws Exception {
        String bucket = S3MockServer.newBucket(false);
        open(TestConfigs.threeStores(dir, new StoreConfig.S3("shelter", StoreConfig.Tier.COLD, null, S3MockServer.endpoint(), "us-east-1",
                bucket, "", true, S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY, null, 5L << 20, 8)));
        Map<String, byte[]> objects = new HashMap<>();
        for (int i = 0; i < 12; i++) objects.put("photos/" + i + ".jpg", bytes(1000 + i * 5000));
        objects.put("videos/big.mp4", bytes(12 << 20)); // multipart on S3
        for (var e : objects.entrySet()) assertThat(put(e.getKey(), e.getValue()).created()).isTrue();

        assertThat(replication.workers().drain()).isEqualTo(objects.size());

        Instant now = Instant.now();
        for (var e : objects.entrySet()) {
            assertThat(states(e.getKey())).containsEntry("primary", "verified").containsEntry("vault", "verified").containsEntry("shelter", "verified");
            for (String store : List.of("primary", "vault", "shelter")) assertThat(read(bunker.store(store), e.getKey())).isEqualTo(e.getValue());
            LockState lock = ((LockableStore) bunker.store("vault")).lockState(e.getKey());
            assertThat(lock.legalHold()).isTrue();
            assertThat(lock.retainUntil()).isBetween(now.plus(Duration.ofDays(21)).minusSeconds(120), now.plus(Duration.ofDays(21)).plusSeconds(5));
            Ledger.CopyRow vault = replication.ledger().copies(e.getKey()).stream().filter(c -> c.store().equals("vault")).findFirst().orElseThrow();
            assertThat(vault.retainUntil()).isEqualTo(lock.retainUntil());
            assertThat(vault.legalHold()).isTrue();
        }
        // The locked copy really cannot be deleted, not even with the raw store; and Bunker's own stores refuse deletes outside the cleanup job.
        assertThatThrownBy(() -> faulty.get("vault").real().delete("photos/0.jpg")).isInstanceOf(ObjectLockedException.class);
        assertThatThrownBy(() -> bunker.store("primary").delete("photos/0.jpg")).isInstanceOf(dev.bunker.store.GuardedStore.DeletionRefusedException.class);
        ReplicationStatus.Snapshot s = replication.status().read();
        assertThat(s.queueDepth()).isZero();
        assertThat(s.copiesByStore().get("shelter")).containsEntry("verified", (long) objects.size());
        long total = objects.values().stream().mapToLong(b -> b.length).sum();
        for (String store : List.of("primary", "vault", "shelter")) {
            assertThat(s.copyBytesByStore().get(store)).as("bytes of %s's verified copies", store).containsEntry("verified", total);
        }
        assertThat(bunker.metrics().scrape()).contains("bunker_replication_objects_copied_total{store=\"shelter\"} 13.0");
    }

    @Test
    void uploadsAreIdempotentImmutableAndChecked() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(5000);
        Ingest.Stored first = put("a", data);
        assertThat(first.created()).isTrue();
        assertThat(first.sha256()).isEqualTo(Sha256.hexOf(data));
        assertThat(put("a", data).created()).isFalse();
        assertThatThrownBy(() -> put("a", bytes(5000))).isInstanceOf(Ingest.Rejected.class)
                .satisfies(e -> assertThat(((Ingest.Rejected) e).reason()).isEqualTo(Ingest.Rejected.Reason.CONFLICT)).hasMessageContaining("immutable");
        assertThat(read(bunker.store("primary"), "a")).isEqualTo(data);

        byte[] other = bytes(100);
        assertThatThrownBy(() -> replication.ingest().put("b", new ByteArrayInputStream(other), other.length, "ab".repeat(32), null))
                .isInstanceOf(Ingest.Rejected.class).hasMessageContaining("x-bunker-sha256");
        String badMd5 = Base64.getEncoder().encodeToString(new byte[16]);
        assertThatThrownBy(() -> replication.ingest().put("c", new ByteArrayInputStream(other), other.length, null, badMd5))
                .isInstanceOf(Ingest.Rejected.class).hasMessageContaining("Content-MD5");
        assertThat(bunker.store("primary").stat("b")).isEmpty();
        assertThat(bunker.store("primary").stat("c")).isEmpty();
        assertThat(count("select count(*) from objects")).isEqualTo(1);
        assertThat(count("select count(*) from replication_jobs")).isEqualTo(1);
        String goodMd5 = Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("MD5").digest(other));
        assertThat(replication.ingest().put("d", new ByteArrayInputStream(other), other.length, Sha256.hexOf(other), goodMd5).created()).isTrue();
        assertThatThrownBy(() -> put("../etc/passwd", other)).isInstanceOf(Ingest.Rejected.class).hasMessageContaining("'..' segment");
    }

    @Test
    void aSecondUploadOfAKeyInFlightIsRefusedAndADeadUploadsKeyIsFreedByItsLease() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        InputStream slow = new InputStream() {
            int sent;

            @Override
            public int read() throws IOException {
                if (sent == 0) {
                    started.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                return sent++ < 1000 ? 'x' : -1;
            }
        };
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return replication.ingest().put("busy", slow, 1000, null, null);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        started.await();
        assertThatThrownBy(() -> put("busy", bytes(10))).isInstanceOf(Ingest.Rejected.class).hasMessageContaining("in progress")
                .satisfies(e -> assertThat(((Ingest.Rejected) e).reason()).isEqualTo(Ingest.Rejected.Reason.CONFLICT));
        release.countDown();
        assertThat(first.get().created()).isTrue();
        assertThat(count("select count(*) from ingest_reservations")).isZero();

        // A process that died mid-upload leaves a reservation; once its lease has run out the key is free again.
        try (Connection c = bunker.database().connection()) {
            c.createStatement().execute("insert into ingest_reservations values ('orphan', gen_random_uuid(), now() - interval '1 second')");
        }
        assertThat(put("orphan", bytes(10)).created()).isTrue();
    }

    @Test
    void aCorruptingTargetNeverGetsAVerifiedCopyAndTheJobFailsAfterItsAttempts() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        faulty.get("shelter").corruptAfterWrite = true;
        put("x", bytes(300_000));
        for (int i = 0; i < 10; i++) {
            replication.workers().drain();
            clock.advance(Duration.ofMillis(250)); // past the (shrunk) backoff
        }
        assertThat(states("x")).containsEntry("vault", "verified").containsEntry("shelter", "failed");
        assertThat(replication.status().read().failedJobs()).isEqualTo(1);
        assertThat(count("select attempts from replication_jobs")).isEqualTo(3);
        assertThat(replication.ledger().copies("x").stream().filter(c -> c.store().equals("shelter")).findFirst().orElseThrow().lastError())
                .contains("reading back").contains("SHA-256");

        faulty.get("shelter").corruptAfterWrite = false;
        assertThat(replication.jobs().retryFailed(null)).isEqualTo(1);
        clock.advance(Duration.ofMillis(2100)); // three failures in a row opened the shelter's breaker (2 s cooldown in the test config)
        replication.workers().drain();
        assertThat(states("x")).containsEntry("shelter", "verified");
    }

    @Test
    void bytesDamagedOnTheWayIntoAStoreAreNeverVerified() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        faulty.get("vault").corruptInTransit = true;
        put("t", bytes(1000));
        replication.workers().drain();
        assertThat(states("t")).containsEntry("vault", "pending").containsEntry("shelter", "verified");
        assertThat(replication.ledger().copies("t").stream().filter(c -> c.store().equals("vault")).findFirst().orElseThrow().lastError())
                .contains("the bytes received have SHA-256").contains("nothing was made visible");
    }

    @Test
    void aDeadStoreTripsItsBreakerWithoutStallingTheOthers() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        faulty.get("shelter").failPuts = true;
        for (int i = 0; i < 4; i++) put("k" + i, bytes(1000));
        replication.workers().drain();
        for (int i = 0; i < 4; i++) assertThat(states("k" + i)).containsEntry("vault", "verified").containsEntry("shelter", "pending");
        // After 3 failures the breaker is open: the jobs wait for it rather than burning attempts.
        clock.advance(Duration.ofMillis(300));
        replication.workers().drain();
        assertThat(count("select count(*) from replication_jobs where state = 'failed'")).isZero();
        faulty.get("shelter").failPuts = false;
        clock.advance(Duration.ofMillis(2200)); // breaker cooldown (2 s in the test config)
        replication.workers().drain();
        for (int i = 0; i < 4; i++) assertThat(states("k" + i)).containsEntry("shelter", "verified");
    }

    @Test
    void readsFailOverToAVerifiedReplicaAndThePrimaryIsRepaired() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] small = bytes(10_000);
        byte[] large = bytes(9 << 20);
        put("s", small);
        put("l", large);
        replication.workers().drain();

        // Primary down: served from the hot replica.
        faulty.get("primary").failGets = true;
        ObjectReads.Opened o = replication.reads().open("s");
        assertThat(o.store()).isEqualTo("vault");
        assertThat(o.failover()).isTrue();
        assertThat(o.body().readAllBytes()).isEqualTo(small);
        faulty.get("primary").failGets = false;

        // Primary holds wrong bytes (bit rot): a small object is checked before sending and served from the replica.
        Path onDisk = ((LocalStore) faulty.get("primary").real()).pathOf("s");
        byte[] rotten = small.clone();
        rotten[100] ^= 0x40;
        Files.write(onDisk, rotten);
        ObjectReads.Opened again = replication.reads().open("s");
        assertThat(again.store()).isEqualTo("vault");
        assertThat(again.body().readAllBytes()).isEqualTo(small);
        assertThat(states("s")).containsEntry("primary", "corrupt");
        assertThat(bunker.metrics().scrape()).contains("bunker_read_failovers_total{store=\"vault\"}");

        // The repair job copies the replica back onto the primary.
        replication.workers().drain();
        assertThat(states("s")).containsEntry("primary", "verified");
        assertThat(Files.readAllBytes(onDisk)).isEqualTo(small);

        // A large object is checked while streaming: a corrupt primary breaks the read instead of returning wrong bytes.
        Path largeOnDisk = ((LocalStore) faulty.get("primary").real()).pathOf("l");
        byte[] largeRotten = large.clone();
        largeRotten[large.length - 1] ^= 1;
        Files.write(largeOnDisk, largeRotten);
        ObjectReads.Opened streamed = replication.reads().open("l");
        assertThat(streamed.store()).isEqualTo("primary");
        // The last bytes are held back until the hash matched: the reader never gets all of them, and then an error.
        long[] handedOut = {0};
        assertThatThrownBy(() -> {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = streamed.body().read(buf)) > 0) handedOut[0] += n;
        }).isInstanceOf(dev.bunker.store.VerifiedStream.MismatchException.class).hasMessageContaining("the read was cut short");
        assertThat(handedOut[0]).isLessThan(large.length);
        assertThat(states("l")).containsEntry("primary", "corrupt");
        ObjectReads.Opened retried = replication.reads().open("l");
        assertThat(retried.store()).isEqualTo("vault");
        assertThat(retried.body().readAllBytes()).isEqualTo(large);
    }

    @Test
    void reconcileRecordsUnknownObjectsAndRepairsLostCopies() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] known = bytes(2000);
        put("known", known);
        replication.workers().drain();
        // An app put this in the primary without telling Bunker; and a copy vanished from the shelter.
        byte[] sneaky = bytes(3000);
        bunker.store("primary").put("sneaky", new ByteArrayInputStream(sneaky), dev.bunker.store.PutOptions.ofSize(3000));
        // Bunker's own key space in a shared store (a planted "backup"): never taken for an app object, never replicated.
        bunker.store("primary").put(".bunker/backups/app/app-dump-20991231T000000Z.manifest.json", new ByteArrayInputStream(sneaky),
                dev.bunker.store.PutOptions.ofSize(3000));
        faulty.get("shelter").real().delete("known"); // lost outside Bunker (an operator, a provider)

        Reconcile.Summary s = replication.reconcile().run(line -> {});
        assertThat(s.newObjects()).isEqualTo(1);
        assertThat(s.missingCopies()).containsEntry("shelter", 1L);
        assertThat(states("known")).containsEntry("shelter", "missing");
        replication.workers().drain();
        assertThat(states("known")).containsEntry("shelter", "verified");
        assertThat(read(bunker.store("shelter"), "known")).isEqualTo(known);
        assertThat(states("sneaky")).containsEntry("primary", "verified").containsEntry("vault", "verified").containsEntry("shelter", "verified");
        assertThat(replication.ledger().find("sneaky").orElseThrow().sha256()).isEqualTo(Sha256.hexOf(sneaky));
        assertThat(replication.ledger().find(".bunker/backups/app/app-dump-20991231T000000Z.manifest.json")).isEmpty();
        assertThat(bunker.store("vault").stat(".bunker/backups/app/app-dump-20991231T000000Z.manifest.json")).isEmpty();

        Reconcile.Summary clean = replication.reconcile().run(line -> {});
        assertThat(clean.enqueued()).isZero();
    }

    @Test
    void policiesChooseTargetsByPrefixAndAPolicyChangeIsAppliedByReconcile() throws Exception {
        BunkerConfig config = TestConfigs.threeLocalStores(dir);
        open(config);
        put("free/a", bytes(100));
        put("paid/b", bytes(100));
        replication.workers().drain();
        assertThat(states("free/a")).containsEntry("vault", "verified").doesNotContainKey("shelter");
        assertThat(states("paid/b")).containsEntry("vault", "verified").containsEntry("shelter", "verified");
        replication.close();
        bunker.close();

        // The free tier now also gets the shelter copy.
        BunkerConfig upgraded = new BunkerConfig(config.source(), config.dataDir(), config.listen(), config.database(), config.stores(),
                new BunkerConfig.ReplicationConfig("primary", List.of("vault", "shelter"), List.of(), 2, Duration.ofSeconds(3),
                        Duration.ofMillis(100), 3, Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(2)), config.api(), config.lifecycle(), config.backups());
        open(upgraded);
        assertThat(replication.reconcile().run(l -> {}).shortOfPolicy()).isEqualTo(1);
        replication.workers().drain();
        assertThat(states("free/a")).containsEntry("shelter", "verified");
    }

    @Test
    void aStoppingProcessFinishesTheJobsItStartedAndGivesBackTheOnesItClaimedButNeverStarted() throws Exception {
        open(TestConfigs.threeLocalStores(dir)); // 4 workers, claiming 4 per round trip
        for (int i = 0; i < 16; i++) put("slow/" + i, bytes(64 * 1024));
        faulty.get("vault").putDelayMillisPerMiB = 16_000; // about 1 s per object
        replication.workers().start();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (count("select count(*) from replication_jobs where lease_owner is not null") < 6 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(count("select count(*) from replication_jobs where lease_owner is not null")).as("claimed ahead of the workers").isGreaterThanOrEqualTo(6);

        replication.workers().stop(Duration.ofSeconds(10));

        assertThat(count("select count(*) from replication_jobs where lease_owner is not null")).as("jobs still leased after the stop").isZero();
        long left = count("select count(*) from replication_jobs");
        assertThat(left).as("jobs left for the next process").isBetween(1L, 15L);
        assertThat(count("select count(*) from replication_jobs where attempts > 0")).as("given-back jobs keep their attempts").isZero();
        assertThat(count("select count(*) from copy_states where store = 'vault' and state = 'verified'")).as("started jobs finished")
                .isEqualTo(16 - left);
    }

    @Test
    void theOutboxFunctionEnqueuesInTheAppsOwnTransaction() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(4000);
        bunker.store("primary").put("app/upload.bin", new ByteArrayInputStream(data), dev.bunker.store.PutOptions.ofSize(data.length));
        try (Connection c = bunker.database().connection()) {
            c.setAutoCommit(false);
            c.createStatement().execute("select bunker.replicate_object('app/upload.bin', 4000, '" + Sha256.hexOf(data) + "')");
            c.rollback(); // the app's transaction failed: no job either
        }
        assertThat(count("select count(*) from replication_jobs")).isZero();
        try (Connection c = bunker.database().connection()) {
            c.setAutoCommit(false);
            c.createStatement().execute("select bunker.replicate_object('app/upload.bin')"); // size and hash learned on copy
            c.commit();
        }
        clock.advance(Duration.ofSeconds(5)); // the outbox stamps its jobs with the database's time; this test clock stands still
        replication.workers().drain();
        assertThat(states("app/upload.bin")).containsEntry("vault", "verified").containsEntry("shelter", "verified");
        assertThat(replication.ledger().find("app/upload.bin").orElseThrow().sha256()).isEqualTo(Sha256.hexOf(data));
        try (Connection c = bunker.database().connection()) {
            assertThatThrownBy(() -> c.createStatement().execute("select bunker.replicate_object('app/upload.bin', 4000, '" + "0".repeat(64) + "')"))
                    .hasMessageContaining("already recorded with other content");
        }
    }

    @Test
    void aPrimaryWhoseBytesDifferFromTheLedgerIsNeverCopied() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(50_000);
        put("p", data);
        // Corrupt the primary before the first copy: no replica exists to fall back to.
        Path onDisk = ((LocalStore) faulty.get("primary").real()).pathOf("p");
        byte[] rotten = data.clone();
        rotten[0] ^= 1;
        Files.write(onDisk, rotten);
        replication.workers().drain();
        assertThat(states("p")).containsEntry("primary", "corrupt").doesNotContainValue("verified");
        assertThat(bunker.store("vault").stat("p")).isEmpty();
        assertThat(bunker.store("shelter").stat("p")).isEmpty();
    }

    @Test
    void announcingAnObjectAlreadyInThePrimaryRecordsIt() throws Exception {
        open(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(777);
        bunker.store("primary").put("direct", new ByteArrayInputStream(data), dev.bunker.store.PutOptions.ofSize(777));
        Ingest.Stored s = replication.ingest().announce("direct", null);
        assertThat(s.created()).isTrue();
        assertThat(s.sha256()).isEqualTo(Sha256.hexOf(data));
        assertThatThrownBy(() -> replication.ingest().announce("absent", null)).isInstanceOf(dev.bunker.store.ObjectNotFoundException.class);
        replication.workers().drain();
        assertThat(states("direct")).containsEntry("vault", "verified");
    }
}
