package dev.bunker.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Writes S3 Inventory reports into a bucket the way S3 publishes them: gzipped CSV data files (every field quoted,
 * keys URL-encoded with '+' for a space), a manifest.json naming them with their MD5, and manifest.checksum last.
 */
public final class InventoryReports {
    private static final DateTimeFormatter FOLDER = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm'Z'").withZone(ZoneOffset.UTC);

    /** One object row: a version row when {@code latest}/{@code deleteMarker} matter (schema with IsLatest, IsDeleteMarker). */
    public record Row(String key, long size, boolean latest, boolean deleteMarker) {
        public static Row of(String key, long size) { return new Row(key, size, true, false); }
    }

    private InventoryReports() {}

    public static String folder(Instant created) {
        return FOLDER.format(created);
    }

    /**
     * Publishes a report of {@code sourceBucket} under {@code prefix} (ending in '/') of {@code bucket}, its rows split over
     * {@code files} data files; {@code versions}: the schema of an all-versions report. Returns the report's folder key.
     */
    public static String publish(S3Client s3, String bucket, String prefix, String sourceBucket, Instant created, List<Row> rows,
                                 int files, boolean versions, boolean withChecksum) {
        String base = prefix + folder(created) + "/";
        String schema = versions ? "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag"
                : "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass";
        List<String> entries = new ArrayList<>();
        int per = Math.max(1, (rows.size() + files - 1) / files);
        for (int f = 0; f < files; f++) {
            List<Row> part = rows.subList(Math.min(rows.size(), f * per), Math.min(rows.size(), (f + 1) * per));
            byte[] gz = gzip(csv(sourceBucket, part, versions));
            String key = prefix + "data/" + UUID.randomUUID() + ".csv.gz";
            s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(gz));
            entries.add("{\"key\": \"" + key + "\", \"size\": " + gz.length + ", \"MD5checksum\": \"" + md5(gz) + "\"}");
        }
        String manifest = "{\n \"sourceBucket\": \"" + sourceBucket + "\",\n \"destinationBucket\": \"arn:aws:s3:::" + bucket + "\",\n"
                + " \"version\": \"2016-11-30\",\n \"creationTimestamp\": \"" + created.toEpochMilli() + "\",\n \"fileFormat\": \"CSV\",\n"
                + " \"fileSchema\": \"" + schema + "\",\n \"files\": [" + String.join(", ", entries) + "]\n}\n";
        s3.putObject(r -> r.bucket(bucket).key(base + "manifest.json"), RequestBody.fromString(manifest));
        if (withChecksum) s3.putObject(r -> r.bucket(bucket).key(base + "manifest.checksum"), RequestBody.fromString(md5(manifest.getBytes(StandardCharsets.UTF_8))));
        return base;
    }

    private static String csv(String sourceBucket, List<Row> rows, boolean versions) {
        StringBuilder out = new StringBuilder();
        for (Row r : rows) {
            String key = URLEncoder.encode(r.key(), StandardCharsets.UTF_8);
            String size = r.deleteMarker() ? "" : Long.toString(r.size());
            if (versions) {
                out.append(q(sourceBucket)).append(',').append(q(key)).append(',').append(q("v" + Math.abs(r.hashCode()))).append(',')
                        .append(q(Boolean.toString(r.latest()))).append(',').append(q(Boolean.toString(r.deleteMarker()))).append(',')
                        .append(q(size)).append(',').append(q("2026-12-01T00:00:00.000Z")).append(',').append(q("etag")).append('\n');
            } else {
                out.append(q(sourceBucket)).append(',').append(q(key)).append(',').append(q(size)).append(',')
                        .append(q("2026-12-01T00:00:00.000Z")).append(',').append(q("etag")).append(',').append(q("STANDARD")).append('\n');
            }
        }
        return out.toString();
    }

    private static String q(String field) {
        return "\"" + field.replace("\"", "\"\"") + "\"";
    }

    static byte[] gzip(String text) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static String md5(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
