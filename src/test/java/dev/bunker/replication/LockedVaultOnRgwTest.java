package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.PurgeExpired;
import dev.bunker.store.PutOptions;
import dev.bunker.store.Store;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.RgwServer;
import dev.bunker.testing.ShiftableClock;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Replication and the deletion lifecycle end to end with the locked store ("vault") on Ceph RGW, an S3
 * server that enforces Object Lock with its own clock: copies (an empty one and a multipart one too)
 * are verified and locked there, reads fail over to them, a locked copy holding other bytes is
 * repaired as a new version, and a purge Bunker attempts too early is refused BY THE SERVER and counted.
 */
@Timeout(180)
class LockedVaultOnRgwTest {
    static final Duration LOCK = Duration.ofSeconds(4);
    @TempDir Path dir;
    final ShiftableClock clock = new ShiftableClock();
    final Map<String, FaultyStore> faulty = new HashMap<>();
    String bucket;
    Bunker bunker;
    Replication replication;
    Lifecycle lifecycle;

    void open() {
        bucket = RgwServer.newBucket(true);
        StoreConfig.S3 vault = new StoreConfig.S3("vault", StoreConfig.Tier.HOT, new StoreConfig.LockConfig(LOCK), RgwServer.endpoint(),
                "us-east-1", bucket, "", true, RgwServer.ACCESS_KEY, RgwServer.SECRET_KEY, null, 5L << 20, 8);
        BunkerConfig base = TestConfigs.threeLocalStores(dir);
        Map<String, StoreConfig> stores = new LinkedHashMap<>(base.stores());
        stores.put("vault", vault);
        BunkerConfig config = new BunkerConfig(base.source(), base.dataDir(), base.listen(), base.database(), stores, base.replication(),
                base.api(), new BunkerConfig.LifecycleConfig(Duration.ofDays(30), Duration.ZERO, 1.0, Duration.ofMinutes(1)), base.backups());
        bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        replication = Engine.replication(bunker);
        lifecycle = Engine.lifecycle(bunker);
    }

    @AfterEach
    void close() {
        if (lifecycle != null) lifecycle.close();
        if (replication != null) replication.close();
        if (bunker != null) bunker.close();
    }

    byte[] put(String key, int size) throws Exception {
        byte[] data = new byte[size];
        new Random(key.hashCode()).nextBytes(data);
        replication.ingest().put(key, new ByteArrayInputStream(data), size, null, null);
        return data;
    }

    Ledger.CopyRow vaultCopy(String key) throws Exception {
        return replication.ledger().copies(key).stream().filter(c -> c.store().equals("vault")).findFirst().orElseThrow();
    }

    int versionsOnRgw(S3Client s3, String key) {
        var r = s3.listObjectVersions(b -> b.bucket(bucket).prefix(key));
        return (int) (r.versions().stream().filter(v -> v.key().equals(key)).count() + r.deleteMarkers().stream().filter(v -> v.key().equals(key)).count());
    }

    /**
     * A first attempt writes a copy the ledger knows is absent without looking first (the lock goes up with it);
     * anything that may already be on the vault is looked at, so it never gets a second locked version of the same
     * bytes: a copy a worker uploaded before it died (the job is on its second attempt). An object reconcile finds in
     * the primary and the vault's listing lacks is written without a look.
     */
    @Test
    void whatMayAlreadyBeOnTheVaultIsLookedAtAndNeverUploadedTwice() throws Exception {
        open();
        try (S3Client s3 = RgwServer.client()) {
            Store primary = faulty.get("primary").real();
            // Uploaded by a worker that died before recording it: the job's first claim is spent.
            byte[] orphan = put("orphan", 300_000);
            s3.putObject(b -> b.bucket(bucket).key("orphan").objectLockMode(ObjectLockMode.COMPLIANCE)
                    .objectLockRetainUntilDate(Instant.now().plus(LOCK).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1))
                    .objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON), RequestBody.fromBytes(orphan));
            try (Connection c = bunker.database().connection(); Statement st = c.createStatement()) {
                assertThat(st.executeUpdate("update replication_jobs set attempts = 1 where key = 'orphan'")).isEqualTo(1);
            }
            // In the primary behind Bunker's back (the ledger lost it), not on the vault.
            byte[] unknown = new byte[80_000];
            new Random(8).nextBytes(unknown);
            primary.put("found/new", new ByteArrayInputStream(unknown), PutOptions.ofSize(unknown.length));
            // And one object put through Bunker: nothing can be on the vault yet.
            byte[] fresh = put("fresh", 90_000);

            replication.reconcile().run(line -> { });
            assertThat(vaultCopy("found/new").state()).isEqualTo(CopyState.PENDING);
            assertThat(replication.workers().drain()).isPositive();

            Map<String, byte[]> expected = Map.of("orphan", orphan, "found/new", unknown, "fresh", fresh);
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                String key = e.getKey();
                Ledger.CopyRow v = vaultCopy(key);
                assertThat(v.state()).as(key).isEqualTo(CopyState.VERIFIED);
                assertThat(v.legalHold()).as(key).isTrue();
                assertThat(versionsOnRgw(s3, key)).as("versions of %s on the vault", key).isEqualTo(1);
                var head = s3.headObject(b -> b.bucket(bucket).key(key).versionId(v.versionId()));
                assertThat(head.objectLockMode()).as(key).isEqualTo(ObjectLockMode.COMPLIANCE);
                assertThat(head.objectLockLegalHoldStatus()).as(key).isEqualTo(ObjectLockLegalHoldStatus.ON);
                try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key).versionId(v.versionId()))) {
                    assertThat(in.readAllBytes()).as(key).isEqualTo(e.getValue());
                }
            }
        }
    }

    @Test
    void copiesAreLockedOnRgwReadsFailOverRepairsAddAVersionAndAnEarlyPurgeIsRefusedByTheServer() throws Exception {
        open();
        try (S3Client s3 = RgwServer.client()) {
            // Rot in the vault before Bunker's copy: other bytes under the key, locked and held, which nobody can replace.
            s3.putObject(b -> b.bucket(bucket).key("rotten").objectLockMode(ObjectLockMode.COMPLIANCE)
                    .objectLockRetainUntilDate(Instant.now().plus(LOCK).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1))
                    .objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON), RequestBody.fromBytes(new byte[] {6, 6, 6}));

            Map<String, byte[]> data = new LinkedHashMap<>();
            data.put("empty", put("empty", 0));
            data.put("photo.jpg", put("photo.jpg", 200_000));
            data.put("video.mp4", put("video.mp4", 7 << 20)); // multipart on the vault (5 MiB parts)
            data.put("rotten", put("rotten", 5_000));
            assertThat(replication.workers().drain()).isPositive();

            for (String key : data.keySet()) {
                Ledger.CopyRow v = vaultCopy(key);
                assertThat(v.state()).as(key).isEqualTo(CopyState.VERIFIED);
                assertThat(v.legalHold()).as(key).isTrue();
                assertThat(v.versionId()).as(key).isNotBlank();
                var head = s3.headObject(b -> b.bucket(bucket).key(key).versionId(v.versionId()));
                assertThat(head.objectLockMode()).as(key).isEqualTo(ObjectLockMode.COMPLIANCE);
                assertThat(head.objectLockLegalHoldStatus()).as(key).isEqualTo(ObjectLockLegalHoldStatus.ON);
                assertThat(head.contentLength()).as(key).isEqualTo(data.get(key).length);
            }

            // The rotten bytes stay as the older, still locked version; the ledger points at the repaired one.
            assertThat(versionsOnRgw(s3, "rotten")).isEqualTo(2);
            String goodVersion = vaultCopy("rotten").versionId();
            var rottenVersion = s3.listObjectVersions(b -> b.bucket(bucket).prefix("rotten")).versions().stream()
                    .filter(x -> !x.versionId().equals(goodVersion)).findFirst().orElseThrow();
            assertThatThrownBy(() -> s3.deleteObject(b -> b.bucket(bucket).key("rotten").versionId(rottenVersion.versionId())))
                    .isInstanceOf(S3Exception.class);

            // Primary down: every object, the empty one too, is served from the vault on RGW with the right bytes.
            faulty.get("primary").failGets = true;
            for (Map.Entry<String, byte[]> e : data.entrySet()) {
                ObjectReads.Opened o = replication.reads().open(e.getKey());
                assertThat(o.store()).isEqualTo("vault");
                try (InputStream in = o.body()) {
                    assertThat(in.readAllBytes()).as(e.getKey()).isEqualTo(e.getValue());
                }
            }
            faulty.get("primary").failGets = false;

            // Permanent deletion: holds released (every version), retention extended to now + the lock period.
            for (String key : data.keySet()) lifecycle.trash().trash(key, "test");
            assertThat(lifecycle.trash().empty(null, "test")).hasSize(data.size());
            while (lifecycle.releaseHolds().run(100, false, "lifecycle") == 100) {
                // more
            }
            for (String key : data.keySet()) {
                for (var v : s3.listObjectVersions(b -> b.bucket(bucket).prefix(key)).versions()) {
                    if (!v.key().equals(key)) continue;
                    assertThat(s3.getObjectLegalHold(b -> b.bucket(bucket).key(key).versionId(v.versionId())).legalHold().status())
                            .as(key).isEqualTo(ObjectLockLegalHoldStatus.OFF);
                }
            }

            // Bunker's clock runs ahead: it thinks the retention is over. RGW's clock says it is not, refuses, and that is counted.
            clock.shift(Duration.ofMinutes(10));
            PurgeExpired.Report early = lifecycle.purge().run(false, false, "test");
            assertThat(early.purged()).isZero();
            assertThat(early.failed()).containsOnlyKeys(data.keySet());
            assertThat(early.failed().values()).allSatisfy(why -> assertThat(why).contains("vault"));
            assertThat(bunker.metrics().scrape()).containsPattern("bunker_lock_violations_refused_total\\{store=\"vault\"} [1-9]");
            for (String key : data.keySet()) {
                assertThat(versionsOnRgw(s3, key)).as(key).isPositive();
                assertThat(replication.ledger().find(key)).as(key).isPresent();
            }

            // Once the server's retention has really passed, the purge removes every version.
            Thread.sleep(LOCK.plusSeconds(2).toMillis());
            PurgeExpired.Report later = lifecycle.purge().run(false, false, "test");
            assertThat(later.failed()).isEmpty();
            assertThat(later.purged()).isEqualTo(data.size());
            for (String key : data.keySet()) {
                assertThat(versionsOnRgw(s3, key)).as(key).isZero();
                assertThat(replication.ledger().find(key)).as(key).isEmpty();
            }
        }
    }
}
