package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.StoreConfig;
import dev.bunker.testing.S3MockServer;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The store contract on a real S3-compatible server (Adobe S3Mock over HTTP). S3Mock ignores the
 * Object Lock headers of PutObject, so these tests also prove the read-back-and-set path works.
 */
class S3StoreTest extends LockableStoreContract {
    static final long PART_SIZE = 5L << 20;
    static String lockedBucket;
    String prefix;

    static StoreConfig.S3 config(String bucket, String prefix, StoreConfig.LockConfig lock) {
        return new StoreConfig.S3("s3test", StoreConfig.Tier.HOT, lock, S3MockServer.endpoint(), "us-east-1", bucket, prefix, true,
                S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY, null, PART_SIZE, 8);
    }

    @Override
    protected Store newStore() {
        synchronized (S3StoreTest.class) {
            if (lockedBucket == null) lockedBucket = S3MockServer.newBucket(true);
        }
        // A fresh prefix per test: an empty store without a bucket per test. S3Mock does not enforce locks: the refusals
        // this contract sees come from S3Store's own checks (RgwStoreTest sees the server's).
        prefix = "t-" + UUID.randomUUID() + "/";
        return new S3Store(config(lockedBucket, prefix, new StoreConfig.LockConfig(java.time.Duration.ofDays(1))), Clock.systemUTC());
    }

    @Override
    protected int unfinishedUploads() {
        try (var s3 = S3MockServer.client()) {
            return (int) s3.listMultipartUploads(r -> r.bucket(lockedBucket).prefix(prefix)).uploads().size();
        }
    }

    @Override
    protected int versionsKept(String key) {
        try (var s3 = S3MockServer.client()) {
            var r = s3.listObjectVersions(b -> b.bucket(lockedBucket).prefix(prefix + key));
            return (int) (r.versions().stream().filter(v -> v.key().equals(prefix + key)).count()
                    + r.deleteMarkers().stream().filter(v -> v.key().equals(prefix + key)).count());
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void manyConcurrentUploadsShareTheStoresUploadMemoryAndGiveItAllBack() throws Exception {
        // max-connections 8: two parts of 5 MiB in memory at once for the whole store, whatever the number of uploads.
        S3Store store = new S3Store(new StoreConfig.S3("budget", StoreConfig.Tier.HOT, null, S3MockServer.endpoint(), "us-east-1",
                S3MockServer.newBucket(false), "", true, S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY, null, PART_SIZE, 8), Clock.systemUTC());
        PartBudget budget = store.uploadBudget();
        assertThat(budget.bytes()).isEqualTo(2 * PART_SIZE);
        java.util.Random random = new java.util.Random(3);
        java.util.Map<String, byte[]> objects = new java.util.concurrent.ConcurrentHashMap<>();
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[i % 2 == 0 ? (int) (2.5 * PART_SIZE) : 100_000];
            random.nextBytes(b);
            objects.put("o" + i, b);
        }
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            java.util.List<java.util.concurrent.Future<PutResult>> puts = new java.util.ArrayList<>();
            for (var e : objects.entrySet()) {
                puts.add(pool.submit(() -> store.put(e.getKey(), new ByteArrayInputStream(e.getValue()), PutOptions.ofSize(e.getValue().length))));
            }
            // and one whose data breaks after its first part: its bytes come back too
            puts.add(pool.submit(() -> store.put("broken", new java.io.SequenceInputStream(new ByteArrayInputStream(new byte[(int) PART_SIZE + 10]),
                    new java.io.InputStream() {
                        @Override public int read() throws java.io.IOException { throw new java.io.IOException("the source went away"); }
                    }), PutOptions.ofSize(-1))));
            for (int i = 0; i < puts.size() - 1; i++) puts.get(i).get();
            assertThatThrownBy(() -> puts.get(puts.size() - 1).get()).hasMessageContaining("the source went away");
        } finally {
            pool.shutdownNow();
        }
        for (var e : objects.entrySet()) {
            try (var in = store.get(e.getKey())) {
                assertThat(in.readAllBytes()).isEqualTo(e.getValue());
            }
        }
        assertThat(budget.availableBytes()).isEqualTo(budget.bytes());
        store.close();
    }

    @Test
    void aBucketWithoutObjectLockFailsLoudlyWhenALockIsAsked() {
        S3Store plain = new S3Store(config(S3MockServer.newBucket(false), "", null), Clock.systemUTC());
        assertThatThrownBy(plain::checkLockingEnabled).isInstanceOf(LockNotSupportedException.class)
                .hasMessageContaining("Object Lock");
        Instant until = Instant.now().plus(1, ChronoUnit.DAYS);
        assertThatThrownBy(() -> plain.put("x", new ByteArrayInputStream(new byte[] {1}), PutOptions.ofSize(1).withLock(new LockState(until, true))))
                .isInstanceOf(LockNotSupportedException.class).hasMessageContaining("Object Lock");
        plain.close();
    }

    @Test
    void theLockedBucketPassesTheLockingCheck() {
        lockable().checkLockingEnabled();
    }

    @Test
    void multipartObjectsReportACompositeChecksumThatStatRepeats() {
        byte[] data = randomBytes((int) (2 * PART_SIZE + 100));
        PutResult r = store.put("mp", new ByteArrayInputStream(data), PutOptions.ofSize(data.length));
        assertThat(r.storeChecksum()).endsWith("-3");
        assertThat(store.stat("mp").orElseThrow().storeChecksum()).isEqualTo(r.storeChecksum());
    }

    @Test
    void anUnreachableServerIsReportedAsUnavailable() {
        StoreConfig.S3 dead = new StoreConfig.S3("dead", StoreConfig.Tier.HOT, null, java.net.URI.create("http://127.0.0.1:1"), "us-east-1",
                "bucket", "", true, "a", "b", null, PART_SIZE, 2);
        try (S3Store s = new S3Store(dead, Clock.systemUTC())) {
            assertThatThrownBy(() -> s.stat("x")).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("store 'dead'").hasMessageContaining("did not answer");
        }
    }
}
