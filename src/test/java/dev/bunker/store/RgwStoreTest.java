package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.StoreConfig;
import dev.bunker.testing.RgwServer;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The store contract on Ceph RGW, an S3 server that enforces Object Lock as AWS does (COMPLIANCE
 * retention and legal holds refuse deletes of a version; versioning is on), plus what only a real
 * enforcing server can show: the server itself refuses, and Bunker maps its refusal.
 */
class RgwStoreTest extends LockableStoreContract {
    static final long PART_SIZE = 5L << 20;
    static String bucket;
    String prefix;

    static StoreConfig.S3 config(String bucket, String prefix, StoreConfig.LockConfig lock) {
        return new StoreConfig.S3("rgw", StoreConfig.Tier.HOT, lock, RgwServer.endpoint(), "us-east-1", bucket, prefix, true,
                RgwServer.ACCESS_KEY, RgwServer.SECRET_KEY, null, PART_SIZE, 8);
    }

    @Override
    protected Store newStore() {
        synchronized (RgwStoreTest.class) {
            if (bucket == null) bucket = RgwServer.newBucket(true);
        }
        prefix = "t-" + UUID.randomUUID() + "/";
        return new S3Store(config(bucket, prefix, new StoreConfig.LockConfig(Duration.ofDays(1))), Clock.systemUTC());
    }

    @Override
    protected int unfinishedUploads() {
        try (S3Client s3 = RgwServer.client()) {
            return s3.listMultipartUploads(r -> r.bucket(bucket).prefix(prefix)).uploads().size();
        }
    }

    @Override
    protected int versionsKept(String key) {
        try (S3Client s3 = RgwServer.client()) {
            var r = s3.listObjectVersions(b -> b.bucket(bucket).prefix(prefix + key));
            return (int) (r.versions().stream().filter(v -> v.key().equals(prefix + key)).count()
                    + r.deleteMarkers().stream().filter(v -> v.key().equals(prefix + key)).count());
        }
    }

    @Test
    void theServerItselfRefusesToDeleteOrShortenALockedVersion() {
        Instant until = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        PutResult r = store.put("held", new ByteArrayInputStream(new byte[] {1, 2, 3}), PutOptions.ofSize(3).withLock(new LockState(until, true)));
        assertThat(r.versionId()).isNotBlank();
        try (S3Client s3 = RgwServer.client()) {
            assertThatThrownBy(() -> s3.deleteObject(b -> b.bucket(bucket).key(prefix + "held").versionId(r.versionId())))
                    .isInstanceOf(S3Exception.class).satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
            assertThatThrownBy(() -> s3.putObjectRetention(b -> b.bucket(bucket).key(prefix + "held").versionId(r.versionId())
                    .retention(t -> t.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(until.minus(1, ChronoUnit.HOURS)))))
                    .isInstanceOf(S3Exception.class).satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
        }
        assertThat(store.stat("held")).isPresent();
    }

    @Test
    void aStoreThatDoesNotCheckLocksItselfStillGetsTheServersRefusalAsObjectLocked() {
        // No lock in this store's config, so S3Store skips its own check and the delete reaches RGW, which answers 403.
        try (S3Store unchecked = new S3Store(config(bucket, prefix, null), Clock.systemUTC())) {
            Instant until = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
            unchecked.put("server-held", new ByteArrayInputStream(new byte[] {9}), PutOptions.ofSize(1).withLock(new LockState(until, false)));
            assertThatThrownBy(() -> unchecked.delete("server-held")).isInstanceOf(ObjectLockedException.class)
                    .hasMessageContaining("COMPLIANCE retention until");
            assertThat(versionsKept("server-held")).isEqualTo(1);
            assertThat(unchecked.stat("server-held")).isPresent();
        }
    }

    @Test
    void anotherUserOfTheServerCanNeitherReadNorDeleteTheObjects() {
        put("private", new byte[] {4, 5, 6});
        try (S3Client other = RgwServer.client(RgwServer.OTHER_ACCESS_KEY, RgwServer.OTHER_SECRET_KEY)) {
            assertThatThrownBy(() -> other.getObjectAsBytes(b -> b.bucket(bucket).key(prefix + "private")))
                    .isInstanceOf(S3Exception.class).satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
            assertThatThrownBy(() -> other.deleteObject(b -> b.bucket(bucket).key(prefix + "private")))
                    .isInstanceOf(S3Exception.class).satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
        }
        assertThat(store.stat("private")).isPresent();
    }

    @Test
    void theLockedBucketPassesTheLockingCheckAndAPlainOneFailsIt() {
        lockable().checkLockingEnabled();
        try (S3Store plain = new S3Store(config(RgwServer.newBucket(false), "", null), Clock.systemUTC())) {
            assertThatThrownBy(plain::checkLockingEnabled).isInstanceOf(LockNotSupportedException.class).hasMessageContaining("Object Lock");
        }
    }
}
