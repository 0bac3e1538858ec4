package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.StoreConfig;
import dev.bunker.testing.InventoryReports;
import dev.bunker.testing.InventoryReports.Row;
import dev.bunker.testing.S3MockServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** S3 Inventory reports as a store's full listing, on a real S3-compatible server (S3Mock over HTTP) holding the reports. */
@Timeout(120)
class S3InventoryTest {
    static final String REPORTS = "inventory/photos/daily/";
    final Instant now = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    final String bucket = S3MockServer.newBucket(false);
    final String reportBucket = S3MockServer.newBucket(false);

    S3Store store(String reportsPrefix) {
        StoreConfig.S3 config = S3StoreTest.config(bucket, "app/", null)
                .withInventory(new StoreConfig.Inventory(reportBucket, reportsPrefix, Duration.ofDays(2)));
        return new S3Store(config, Clock.systemUTC());
    }

    static Map<String, Long> readAll(FullListing listing) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (List<ObjectInfo> page = listing.next(3); !page.isEmpty(); page = listing.next(3)) {
            assertThat(page.size()).isLessThanOrEqualTo(3);
            for (ObjectInfo o : page) assertThat(out.put(o.key(), o.size())).as("listed twice: " + o.key()).isNull();
        }
        return out;
    }

    @Test
    void theNewestCompleteReportListsTheStoresCurrentObjectsWithTheirExactKeys() {
        try (S3Client s3 = S3MockServer.client(); S3Store store = store(REPORTS)) {
            InventoryReports.publish(s3, reportBucket, REPORTS, bucket, now.minus(Duration.ofDays(1)),
                    List.of(Row.of("app/old-report-only", 1)), 1, false, true);
            List<Row> rows = new ArrayList<>(List.of(
                    Row.of("app/photos/plain.jpg", 100),
                    Row.of("app/photos/with space.jpg", 200),
                    Row.of("app/photos/a+b=c&d.jpg", 300),          // '+' is %2B in the report, a space is '+'
                    Row.of("app/photos/100%25 sure/ü €.jpg", 400),   // a literal %25, non-ASCII
                    Row.of("app/photos/quote\"comma,.jpg", 500),
                    Row.of("elsewhere/not-this-store.jpg", 600),      // outside the store's prefix
                    new Row("app/photos/replaced.jpg", 1, false, false), // an older version
                    new Row("app/photos/replaced.jpg", 700, true, false),
                    new Row("app/photos/deleted.jpg", 0, true, true)));  // a delete marker
            for (int i = 0; i < 20; i++) rows.add(Row.of("app/bulk/" + i, i));
            InventoryReports.publish(s3, reportBucket, REPORTS, bucket, now.minus(Duration.ofHours(3)), rows, 4, true, true);
            // The newest report is still being written (no manifest.checksum yet): the one before it is read.
            InventoryReports.publish(s3, reportBucket, REPORTS, bucket, now.minus(Duration.ofHours(1)), List.of(Row.of("app/half-written", 1)), 1, false, false);

            try (FullListing listing = store.inventory(now).orElseThrow()) {
                assertThat(listing.live()).isFalse();
                assertThat(listing.asOf()).isEqualTo(now.minus(Duration.ofHours(3)));
                assertThat(listing.describe()).contains(reportBucket, REPORTS + InventoryReports.folder(now.minus(Duration.ofHours(3))));
                Map<String, Long> expected = new LinkedHashMap<>();
                expected.put("photos/plain.jpg", 100L);
                expected.put("photos/with space.jpg", 200L);
                expected.put("photos/a+b=c&d.jpg", 300L);
                expected.put("photos/100%25 sure/ü €.jpg", 400L);
                expected.put("photos/quote\"comma,.jpg", 500L);
                expected.put("photos/replaced.jpg", 700L);
                for (int i = 0; i < 20; i++) expected.put("bulk/" + i, (long) i);
                assertThat(readAll(listing)).containsExactlyInAnyOrderEntriesOf(expected);
                assertThat(listing.next(3)).isEmpty();
            }
        }
    }

    @Test
    void aStoreWithoutInventoryHasNone() {
        try (S3Store plain = new S3Store(S3StoreTest.config(bucket, "app/", null), Clock.systemUTC())) {
            assertThat(plain.inventory(now)).isEmpty();
        }
    }

    @Test
    void aDamagedDataFileFailsTheListingAndNamesTheFile() {
        try (S3Client s3 = S3MockServer.client(); S3Store store = store(REPORTS)) {
            String base = InventoryReports.publish(s3, reportBucket, REPORTS, bucket, now.minus(Duration.ofHours(2)),
                    List.of(Row.of("app/a", 1), Row.of("app/b", 2)), 1, false, true);
            String manifest = s3.getObjectAsBytes(r -> r.bucket(reportBucket).key(base + "manifest.json")).asUtf8String();
            String dataKey = manifest.replaceAll("(?s).*\"key\": \"([^\"]+)\".*", "$1");
            // Same rows, another gzip stream (a rewritten or swapped file): readable, but not the bytes the manifest vouches for.
            byte[] other = gzipWithComment("\"" + bucket + "\",\"app%2Fa\",\"1\",\"x\",\"e\",\"STANDARD\"\n");
            s3.putObject(r -> r.bucket(reportBucket).key(dataKey), RequestBody.fromBytes(other));
            try (FullListing listing = store.inventory(now).orElseThrow()) {
                assertThatThrownBy(() -> readAll(listing)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining(dataKey).hasMessageContaining("MD5").hasMessageContaining("damaged");
            }
        }
    }

    @Test
    void unusableReportsAreRefusedWithWhatToDo() {
        try (S3Client s3 = S3MockServer.client()) {
            try (S3Store store = store("nothing/here/")) {
                assertThatThrownBy(() -> store.inventory(now)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining("no complete inventory report under s3://" + reportBucket + "/nothing/here/")
                        .hasMessageContaining("--live-listing");
            }
            String old = "old/";
            InventoryReports.publish(s3, reportBucket, old, bucket, now.minus(Duration.ofDays(3)), List.of(Row.of("app/a", 1)), 1, false, true);
            try (S3Store store = store(old)) {
                assertThatThrownBy(() -> store.inventory(now)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining("72 h ago").hasMessageContaining("max-age (48 h)");
            }
            String other = "other/";
            InventoryReports.publish(s3, reportBucket, other, "someone-elses-bucket", now.minus(Duration.ofHours(1)), List.of(Row.of("app/a", 1)), 1, false, true);
            try (S3Store store = store(other)) {
                assertThatThrownBy(() -> store.inventory(now)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining("lists bucket 'someone-elses-bucket', not this store's bucket '" + bucket + "'");
            }
            String changed = "changed/";
            String base = InventoryReports.publish(s3, reportBucket, changed, bucket, now.minus(Duration.ofHours(1)), List.of(Row.of("app/a", 1)), 1, false, true);
            String manifest = s3.getObjectAsBytes(r -> r.bucket(reportBucket).key(base + "manifest.json")).asUtf8String();
            s3.putObject(r -> r.bucket(reportBucket).key(base + "manifest.json"), RequestBody.fromString(manifest.replace("\"CSV\"", "\"CSV\" ")));
            try (S3Store store = store(changed)) {
                assertThatThrownBy(() -> store.inventory(now)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining("does not match its manifest.checksum");
            }
            String parquet = "parquet/";
            String pbase = InventoryReports.publish(s3, reportBucket, parquet, bucket, now.minus(Duration.ofHours(1)), List.of(Row.of("app/a", 1)), 1, false, false);
            String pm = s3.getObjectAsBytes(r -> r.bucket(reportBucket).key(pbase + "manifest.json")).asUtf8String().replace("\"CSV\"", "\"Parquet\"");
            s3.putObject(r -> r.bucket(reportBucket).key(pbase + "manifest.json"), RequestBody.fromString(pm));
            s3.putObject(r -> r.bucket(reportBucket).key(pbase + "manifest.checksum"), RequestBody.fromString(InventoryReports.md5(pm.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
            try (S3Store store = store(parquet)) {
                assertThatThrownBy(() -> store.inventory(now)).isInstanceOf(InventoryException.class)
                        .hasMessageContaining("format 'Parquet'").hasMessageContaining("output format to CSV");
            }
        }
    }

    private static byte[] gzipWithComment(String text) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes) {
            { def.setLevel(java.util.zip.Deflater.NO_COMPRESSION); }
        }) {
            gz.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
