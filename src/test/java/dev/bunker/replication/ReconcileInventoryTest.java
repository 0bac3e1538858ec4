package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.store.PutOptions;
import dev.bunker.testing.InventoryReports;
import dev.bunker.testing.InventoryReports.Row;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.S3MockServer;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Reconcile reading S3 Inventory reports instead of listing (a real PostgreSQL, local stores and S3Mock): a report is
 * a snapshot, so what changed after it was taken must neither be marked missing nor brought back.
 */
@Timeout(120)
class ReconcileInventoryTest {
    static final String REPORTS = "reports/src/daily/";
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    final Random random = new Random(11);
    final String bucket = S3MockServer.newBucket(false);
    final String reportBucket = S3MockServer.newBucket(false);
    Bunker bunker;
    Replication replication;

    @AfterEach
    void close() {
        if (replication != null) replication.close();
        if (bunker != null) bunker.close();
    }

    StoreConfig.S3 s3Store(String name, StoreConfig.Tier tier) {
        return new StoreConfig.S3(name, tier, null, S3MockServer.endpoint(), "us-east-1", bucket, "", true, S3MockServer.ACCESS_KEY,
                S3MockServer.SECRET_KEY, null, 5L << 20, 8).withInventory(new StoreConfig.Inventory(reportBucket, REPORTS, Duration.ofDays(8)));
    }

    void open(BunkerConfig config) {
        bunker = Bunker.open(config, clock);
        replication = Engine.replication(bunker);
    }

    byte[] put(String key) throws Exception {
        byte[] data = new byte[1000 + random.nextInt(5000)];
        random.nextBytes(data);
        replication.ingest().put(key, new ByteArrayInputStream(data), data.length, null, null);
        return data;
    }

    Map<String, String> states(String key) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (Ledger.CopyRow c : replication.ledger().copies(key)) out.put(c.store(), c.state().toString());
        return out;
    }

    void report(Instant created, List<Row> rows) {
        try (S3Client s3 = S3MockServer.client()) {
            InventoryReports.publish(s3, reportBucket, REPORTS, bucket, created, rows, 2, false, true);
        }
    }

    @Test
    void copiesLostBeforeTheReportAreRepairedAndCopiesMadeAfterItAreLeftAlone() throws Exception {
        open(TestConfigs.threeStores(dir, s3Store("shelter", StoreConfig.Tier.COLD)));
        Instant t0 = clock.instant();
        byte[] lost = put("photos/lost.jpg");
        put("photos/kept.jpg");
        replication.workers().drain();
        try (S3Client s3 = S3MockServer.client()) { // gone from the bucket outside Bunker, before the report
            s3.deleteObject(r -> r.bucket(bucket).key("photos/lost.jpg"));
        }

        clock.advance(Duration.ofHours(1));
        put("photos/after-report.jpg"); // copied after the report was taken: the report cannot show it
        replication.workers().drain();
        clock.advance(Duration.ofHours(1));
        report(t0.plus(Duration.ofMinutes(30)), List.of(Row.of("photos/kept.jpg", 1))); // a report lists what it found

        Reconcile.Summary s = replication.reconcile().run(line -> {});
        assertThat(s.listedFrom().get("shelter")).contains("inventory report s3://" + reportBucket + "/" + REPORTS);
        assertThat(s.listedFrom().get("primary")).isEqualTo("live listing");
        assertThat(s.listed()).containsEntry("shelter", 1L);
        assertThat(s.missingCopies()).containsEntry("shelter", 1L);
        assertThat(states("photos/lost.jpg")).containsEntry("shelter", "missing");
        assertThat(states("photos/after-report.jpg")).containsEntry("shelter", "verified");
        replication.workers().drain();
        assertThat(states("photos/lost.jpg")).containsEntry("shelter", "verified");
        try (var in = bunker.store("shelter").get("photos/lost.jpg")) {
            assertThat(in.readAllBytes()).isEqualTo(lost);
        }

        // Told to list live, reconcile reads the bucket itself: everything is there now.
        Reconcile.Summary live = replication.reconcile().run(line -> {}, true);
        assertThat(live.listedFrom().get("shelter")).isEqualTo("live listing");
        assertThat(live.listed()).containsEntry("shelter", 3L);
        assertThat(live.enqueued()).isZero();
    }

    @Test
    void aDamagedReportFailsReconcileAndChangesNothing() throws Exception {
        open(TestConfigs.threeStores(dir, s3Store("shelter", StoreConfig.Tier.COLD)));
        put("photos/a.jpg");
        put("photos/b.jpg");
        replication.workers().drain();
        clock.advance(Duration.ofHours(2));
        report(clock.instant().minus(Duration.ofHours(1)), List.of(Row.of("photos/a.jpg", 1), Row.of("photos/b.jpg", 1)));
        try (S3Client s3 = S3MockServer.client()) { // a data file cut short: b's row is lost, and the file is no longer what the manifest says
            String data = s3.listObjectsV2(r -> r.bucket(reportBucket).prefix(REPORTS + "data/")).contents().get(1).key();
            String text = new String(new java.util.zip.GZIPInputStream(s3.getObject(r -> r.bucket(reportBucket).key(data))).readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
            try (var out = new java.util.zip.GZIPOutputStream(gz)) {
                out.write(text.substring(0, text.lastIndexOf('\n', text.length() - 2) + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            s3.putObject(r -> r.bucket(reportBucket).key(data), software.amazon.awssdk.core.sync.RequestBody.fromBytes(gz.toByteArray()));
        }

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> replication.reconcile().run(line -> {}))
                .isInstanceOf(dev.bunker.store.InventoryException.class).hasMessageContaining("damaged");
        assertThat(states("photos/a.jpg")).containsEntry("shelter", "verified");
        assertThat(states("photos/b.jpg")).containsEntry("shelter", "verified");
        assertThat(replication.status().read().queueDepth()).isZero();

        // A report with no object of the store (a wrong prefix, another configuration's report) is refused, not taken as a lost bucket.
        report(clock.instant().minus(Duration.ofMinutes(30)), List.of());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> replication.reconcile().run(line -> {}))
                .isInstanceOf(dev.bunker.store.InventoryException.class).hasMessageContaining("lists no object");
        assertThat(states("photos/a.jpg")).containsEntry("shelter", "verified");
    }

    @Test
    void anObjectPurgedAfterThePrimarysReportIsNotBroughtBack() throws Exception {
        BunkerConfig three = TestConfigs.threeLocalStores(dir);
        Map<String, StoreConfig> stores = new LinkedHashMap<>(three.stores());
        stores.put("primary", s3Store("primary", StoreConfig.Tier.HOT));
        open(new BunkerConfig(three.source(), three.dataDir(), three.listen(), three.database(), stores, three.replication(), three.api(),
                three.lifecycle(), three.backups()));
        Instant taken = clock.instant().minus(Duration.ofHours(2));
        byte[] sneaky = new byte[2500];
        random.nextBytes(sneaky);
        bunker.store("primary").put("sneaky.bin", new ByteArrayInputStream(sneaky), PutOptions.ofSize(sneaky.length)); // written by the app itself
        // "purged.bin" was in the bucket when the report was taken, then purged by Bunker's cleanup job (its tombstone says when).
        try (Connection c = bunker.database().connection();
             PreparedStatement ps = c.prepareStatement("insert into tombstones (key, size, purged_at, purged_by) values ('purged.bin', 10, ?, 'cleanup')")) {
            ps.setTimestamp(1, Timestamp.from(taken.plus(Duration.ofMinutes(40))));
            ps.executeUpdate();
        }
        report(taken, List.of(Row.of("sneaky.bin", sneaky.length), Row.of("purged.bin", 10)));

        Reconcile.Summary s = replication.reconcile().run(line -> {});
        assertThat(s.newObjects()).isEqualTo(1);
        assertThat(replication.ledger().find("purged.bin")).isEmpty();
        assertThat(replication.ledger().find("sneaky.bin")).isPresent();
        replication.workers().drain();
        assertThat(states("sneaky.bin")).containsEntry("vault", "verified").containsEntry("shelter", "verified");
    }
}
