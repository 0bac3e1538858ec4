package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.config.StoreConfig;
import dev.bunker.drill.DrillRuns;
import dev.bunker.drill.Drills;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.S3MockServer;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copies on an archival tier (S3 GLACIER, DEEP_ARCHIVE) cannot be read without a restore of hours: S3 answers
 * InvalidObjectState. Making, re-checking and drilling such a copy therefore never reads it: the store's size and
 * the checksum it confirmed at upload stand in. Here the shelter is S3 (S3Mock) with storage class GLACIER, and
 * its reads fail exactly as archived ones do.
 */
@Timeout(120)
class ColdTierTest {
    @TempDir Path dir;
    final Map<String, FaultyStore> faulty = new HashMap<>();
    Bunker bunker;
    Replication replication;

    @AfterEach
    void close() {
        if (replication != null) replication.close();
        if (bunker != null) bunker.close();
    }

    @Test
    void archivedCopiesAreMadeReCheckedAndDrilledWithoutEverBeingRead() throws Exception {
        StoreConfig.S3 glacier = new StoreConfig.S3("shelter", StoreConfig.Tier.COLD, null, S3MockServer.endpoint(), "us-east-1",
                S3MockServer.newBucket(false), "cold-" + UUID.randomUUID() + "/", true, S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY,
                "GLACIER", 5L << 20, 4);
        bunker = Bunker.open(TestConfigs.threeStores(dir, glacier), Clock.systemUTC(), FaultyStore.into(faulty));
        replication = Engine.replication(bunker);
        faulty.get("shelter").archived = true; // every read of the shelter fails as InvalidObjectState does

        byte[] data = new byte[70_000];
        new Random(9).nextBytes(data);
        replication.ingest().put("old/photo.jpg", new ByteArrayInputStream(data), data.length, null, null);
        replication.workers().drain();
        assertThat(state("shelter")).isEqualTo("verified");

        // Re-checking the copy (a repair job, a policy change) verifies it from its metadata, not by reading it.
        replication.ledger().mark("old/photo.jpg", "shelter", CopyState.PENDING, "re-check");
        replication.jobs().enqueue("old/photo.jpg", List.of("shelter"));
        replication.workers().drain();
        assertThat(state("shelter")).isEqualTo("verified");

        try (Drills drills = Engine.drills(bunker, replication)) {
            DrillRuns.Run run = drills.objects().run(10);
            assertThat(run.ok()).as(run.log()).isTrue();
            assertThat(run.checks().get(0).detail()).contains("1 archived copies checked by size only");
        }
    }

    private String state(String store) throws Exception {
        return replication.ledger().copies("old/photo.jpg").stream().filter(c -> c.store().equals(store)).findFirst().orElseThrow().state().toString();
    }
}
