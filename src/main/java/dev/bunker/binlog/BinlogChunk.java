package dev.bunker.binlog;

import dev.bunker.store.ObjectKeys;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * One stored stretch of a MariaDB binary log file: bytes {@code from} to {@code to} of {@code file} (whole events only;
 * from 0 it starts with the file's magic number), kept zstd-compressed and age-encrypted like a dump, with signed
 * metadata beside it. {@code rotated}: its last event is the ROTATE that ends the file, so the next file follows from
 * its byte 0. A marker ({@code from == to}, no data) records that the server had written nothing past {@code to} by
 * {@code quietThrough}, so a restore to a time while the source was quiet knows nothing is missing. After a restart the
 * stream stores again from where the store that holds least ends, so stretches may overlap; they hold the same bytes.
 */
public record BinlogChunk(String source, String file, long from, long to, Instant firstEventAt, Instant lastEventAt, boolean rotated,
                          Instant receivedAt, long size, String sha256, Instant quietThrough) {
    /** Binary logs live in Bunker's reserved key space, beside the backups. */
    public static final String ROOT = ObjectKeys.RESERVED_PREFIX + "binlog/";
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\\.[0-9]{6,}");

    /** Whether {@code name} is a binary log file name as a server gives them (base name, a dot, a sequence number). */
    public static boolean isFileName(String name) {
        return name != null && FILE.matcher(name).matches() && !name.contains("..");
    }

    public static String prefix(String source) {
        return ROOT + source + "/";
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isMarker() {
        return from == to;
    }

    /** Unique per storing (the time is in it): a stretch stored again after a restart never meets a locked object of the same key. */
    public String dataKey() {
        return name() + ".zst.age";
    }

    public String metaKey() {
        return name() + ".json";
    }

    private String name() {
        return prefix(source) + file + "/" + String.format("%012d-%012d-%d", from, to, receivedAt.toEpochMilli());
    }

    /** The sequence number of {@code file} ("binlog.000042" gives 42). */
    public static long sequence(String file) {
        return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
    }

    /** The file after {@code file}: the server numbers them in order, keeping the width. */
    public static String next(String file) {
        int dot = file.lastIndexOf('.');
        String digits = file.substring(dot + 1);
        return file.substring(0, dot + 1) + String.format("%0" + digits.length() + "d", Long.parseLong(digits) + 1);
    }
}
