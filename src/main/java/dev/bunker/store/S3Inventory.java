package dev.bunker.store;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import dev.bunker.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The newest complete S3 Inventory report of a store's bucket (CSV, current or all versions), read as the store's
 * full listing. A report is complete once its {@code manifest.checksum} is there; the manifest must match it, and
 * every data file the MD5 the manifest gives, so a damaged or half-written report fails reconcile instead of making
 * it mark good copies missing. Keys outside the store's prefix, older versions and delete markers are skipped.
 */
final class S3Inventory implements FullListing {
    private static final Pattern REPORT_FOLDER = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The parser must not close the data file at its end: the rest of the file is read for its MD5 first. */
    private static final CsvMapper CSV = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY)
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();

    private record DataFile(String key, String md5) {}

    private final S3Client s3;
    private final String store;
    private final String reportBucket;
    private final String sourceBucket;
    private final String keyPrefix;
    private final String report;
    private final Instant asOf;
    private final List<DataFile> files;
    private final Columns columns;
    private int fileIndex = -1;
    private long row;
    private InputStream raw;
    private MessageDigest md5;
    private MappingIterator<String[]> rows;

    private S3Inventory(S3Client s3, String store, String reportBucket, String sourceBucket, String keyPrefix, String report,
                        Instant asOf, List<DataFile> files, Columns columns) {
        this.s3 = s3;
        this.store = store;
        this.reportBucket = reportBucket;
        this.sourceBucket = sourceBucket;
        this.keyPrefix = keyPrefix;
        this.report = report;
        this.asOf = asOf;
        this.files = files;
        this.columns = columns;
    }

    /** Finds and checks the newest complete report under the configured folder; refuses one older than its max age. */
    static S3Inventory open(S3Client s3, StoreConfig.Inventory config, String store, String sourceBucket, String keyPrefix,
                            Instant now, S3Errors errors) {
        String where = "s3://" + config.bucket() + "/" + config.prefix();
        List<String> folders = new ArrayList<>();
        try {
            for (var page : s3.listObjectsV2Paginator(r -> r.bucket(config.bucket()).prefix(config.prefix()).delimiter("/"))) {
                for (CommonPrefix p : page.commonPrefixes()) {
                    String name = p.prefix().substring(config.prefix().length(), p.prefix().length() - 1);
                    if (REPORT_FOLDER.matcher(name).matches()) folders.add(name);
                }
            }
        } catch (SdkException e) {
            throw errors.translate(e, "list the inventory reports of", null);
        }
        folders.sort(Comparator.reverseOrder());
        for (String folder : folders) {
            String base = config.prefix() + folder + "/";
            String checksum = read(s3, config.bucket(), base + "manifest.checksum", errors);
            if (checksum == null) continue; // still being written: the checksum comes last
            String manifestKey = base + "manifest.json";
            String manifestText = read(s3, config.bucket(), manifestKey, errors);
            if (manifestText == null) continue;
            String report = "inventory report s3://" + config.bucket() + "/" + base;
            if (!md5Hex(manifestText.getBytes(StandardCharsets.UTF_8)).equalsIgnoreCase(checksum.trim())) {
                throw new InventoryException(store, report + "manifest.json does not match its manifest.checksum: the report is damaged "
                        + "or was changed; delete that folder to fall back to the previous report, or run reconcile with --live-listing");
            }
            return parse(s3, config, store, sourceBucket, keyPrefix, now, report, manifestText);
        }
        throw new InventoryException(store, "store '" + store + "': no complete inventory report under " + where
                + " (expected folders named like 2026-12-01T00-00Z holding manifest.json and manifest.checksum); check the bucket's "
                + "inventory configuration and this store's inventory.prefix, or run reconcile with --live-listing");
    }

    private static S3Inventory parse(S3Client s3, StoreConfig.Inventory config, String store, String sourceBucket, String keyPrefix,
                                     Instant now, String report, String manifestText) {
        JsonNode manifest;
        try {
            manifest = JSON.readTree(manifestText);
        } catch (IOException e) {
            throw new InventoryException(store, report + "manifest.json is not JSON: " + e.getMessage(), e);
        }
        if (!sourceBucket.equals(manifest.path("sourceBucket").asText())) {
            throw new InventoryException(store, report + " lists bucket '" + manifest.path("sourceBucket").asText()
                    + "', not this store's bucket '" + sourceBucket + "'; point inventory.prefix at this bucket's reports");
        }
        String format = manifest.path("fileFormat").asText();
        if (!format.equals("CSV")) {
            throw new InventoryException(store, report + " is in format '" + format + "'; Bunker reads CSV reports: set the inventory "
                    + "configuration's output format to CSV");
        }
        Columns columns = Columns.of(manifest.path("fileSchema").asText(), store, report);
        long millis;
        try {
            millis = Long.parseLong(manifest.path("creationTimestamp").asText());
        } catch (NumberFormatException e) {
            throw new InventoryException(store, report + "manifest.json has no creationTimestamp in milliseconds", e);
        }
        Instant asOf = Instant.ofEpochMilli(millis);
        Duration age = Duration.between(asOf, now);
        if (age.compareTo(config.maxAge()) > 0) {
            throw new InventoryException(store, "store '" + store + "': the newest " + report + " was taken at " + asOf + ", "
                    + age.toHours() + " h ago, older than inventory.max-age (" + config.maxAge().toHours() + " h); check that the bucket "
                    + "still delivers inventory reports, or run reconcile with --live-listing");
        }
        List<DataFile> files = new ArrayList<>();
        for (JsonNode f : manifest.path("files")) {
            String key = f.path("key").asText();
            String md5 = f.path("MD5checksum").asText();
            if (key.isEmpty() || md5.isEmpty()) throw new InventoryException(store, report + "manifest.json lists a file without key or MD5checksum");
            files.add(new DataFile(key, md5));
        }
        return new S3Inventory(s3, store, config.bucket(), sourceBucket, keyPrefix, report, asOf, files, columns);
    }

    @Override
    public Instant asOf() { return asOf; }

    @Override
    public boolean live() { return false; }

    @Override
    public String describe() { return report; }

    @Override
    public List<ObjectInfo> next(int max) {
        List<ObjectInfo> out = new ArrayList<>();
        try {
            while (out.size() < max) {
                if (rows == null || !rows.hasNextValue()) {
                    if (rows != null) finishFile();
                    if (fileIndex + 1 >= files.size()) break;
                    openFile(++fileIndex);
                    continue;
                }
                row++;
                ObjectInfo o = columns.object(rows.nextValue(), sourceBucket, keyPrefix, this);
                if (o != null) out.add(o);
            }
        } catch (IOException e) {
            throw new InventoryException(store, report + ": reading " + files.get(fileIndex).key() + " failed at row " + row + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new InventoryException(store, report + ": unable to read " + files.get(fileIndex).key() + ": " + e.getMessage(), e);
        }
        return out;
    }

    InventoryException badRow(String why) {
        return new InventoryException(store, report + ": row " + row + " of " + files.get(fileIndex).key() + " " + why);
    }

    private void openFile(int i) throws IOException {
        md5 = md5();
        raw = new DigestInputStream(s3.getObject(r -> r.bucket(reportBucket).key(files.get(i).key())), md5);
        rows = CSV.readerFor(String[].class).readValues(new GZIPInputStream(raw, 1 << 16));
        row = 0;
    }

    /** The whole file was read (gzip's trailer included): its bytes must be the MD5 the manifest gives. */
    private void finishFile() throws IOException {
        raw.transferTo(java.io.OutputStream.nullOutputStream());
        rows.close();
        raw.close();
        String got = Sha256.hex(md5.digest());
        DataFile f = files.get(fileIndex);
        if (!got.equalsIgnoreCase(f.md5())) {
            throw new InventoryException(store, report + ": data file " + f.key() + " has MD5 " + got + ", the manifest says " + f.md5()
                    + ": the report is damaged; reconcile changed nothing");
        }
        rows = null;
    }

    @Override
    public void close() {
        try {
            if (rows != null) rows.close();
            if (raw != null) raw.close();
        } catch (IOException ignored) {
            // closing a half-read report: nothing was taken from it
        }
    }

    private static String read(S3Client s3, String bucket, String key, S3Errors errors) {
        try {
            return s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asUtf8String();
        } catch (NoSuchKeyException e) {
            return null;
        } catch (SdkException e) {
            throw errors.translate(e, "read the inventory file s3://" + bucket + "/" + key + " of", null);
        }
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no MD5", e);
        }
    }

    private static String md5Hex(byte[] data) {
        return Sha256.hex(md5().digest(data));
    }

    /** Where Key, Size and (in a report of all versions) IsLatest and IsDeleteMarker are in a row. */
    private record Columns(int count, int bucket, int key, int size, int isLatest, int isDeleteMarker) {
        static Columns of(String schema, String store, String report) {
            List<String> names = new ArrayList<>();
            for (String n : schema.split(",")) names.add(n.trim());
            int key = names.indexOf("Key");
            int size = names.indexOf("Size");
            if (key < 0 || size < 0) {
                throw new InventoryException(store, report + " has fields " + names + "; reconcile needs Key and Size: add the Size field "
                        + "to the inventory configuration");
            }
            return new Columns(names.size(), names.indexOf("Bucket"), key, size, names.indexOf("IsLatest"), names.indexOf("IsDeleteMarker"));
        }

        /** The row's object, or null when it is not a current object of the store (another prefix, an older version, a delete marker). */
        ObjectInfo object(String[] row, String sourceBucket, String keyPrefix, S3Inventory in) {
            if (row.length != count) throw in.badRow("has " + row.length + " fields; the manifest's schema has " + count);
            if (bucket >= 0 && !row[bucket].equals(sourceBucket)) throw in.badRow("is of bucket '" + row[bucket] + "', not '" + sourceBucket + "'");
            if (isDeleteMarker >= 0 && row[isDeleteMarker].equals("true")) return null;
            if (isLatest >= 0 && row[isLatest].equals("false")) return null;
            String key;
            try {
                key = URLDecoder.decode(row[this.key], StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw in.badRow("has a key that is not URL-encoded: " + e.getMessage());
            }
            if (!key.startsWith(keyPrefix)) return null;
            long bytes;
            try {
                bytes = Long.parseLong(row[size]);
            } catch (NumberFormatException e) {
                throw in.badRow("has size '" + row[size] + "', not a number");
            }
            return new ObjectInfo(key.substring(keyPrefix.length()), bytes, null, null);
        }
    }
}
