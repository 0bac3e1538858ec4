package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * The one grammar for object keys, so every store and the API refuse the same keys with the same
 * words. A key is valid UTF-8 text, stored exactly as given (no Unicode normalisation: "é" as one
 * code point and as "e" plus a combining accent are two different keys), made of segments
 * separated by '/': no empty, '.' or '..' segment, no control character (C0, DEL, C1), no '\',
 * at most {@link Limits#maxBytes()} bytes in all and {@link Limits#maxSegmentBytes()} per segment.
 * Keys under {@link #RESERVED_PREFIX} belong to Bunker itself (its backups) and are refused on
 * every way objects come in from apps.
 */
public final class ObjectKeys {
    /** S3's limit on a whole key. */
    public static final int MAX_BYTES = 1024;
    /** The file-name limit of ext4, xfs and most file systems a local store sits on. */
    public static final int MAX_SEGMENT_BYTES = 255;
    /** Bunker's own key space in a store (database backups): apps can never write there. */
    public static final String RESERVED_PREFIX = ".bunker/";

    /** How long a key and each of its segments may be, in UTF-8 bytes. */
    public record Limits(int maxBytes, int maxSegmentBytes) {
        public static final Limits ANY_STORE = new Limits(MAX_BYTES, MAX_SEGMENT_BYTES);
    }

    private ObjectKeys() {}

    /** The limits that let every one of {@code stores} hold a key: an S3 prefix shortens the whole key, a local folder caps segments. */
    public static Limits limitsFor(Collection<StoreConfig> stores) {
        int max = MAX_BYTES;
        int segment = MAX_BYTES;
        for (StoreConfig s : stores) {
            if (s instanceof StoreConfig.S3 s3) max = Math.min(max, MAX_BYTES - s3.prefix().getBytes(StandardCharsets.UTF_8).length);
            else segment = MAX_SEGMENT_BYTES;
        }
        return new Limits(max, Math.min(segment, max));
    }

    /** Returns the key, or throws {@link InvalidKeyException} saying what is wrong with it. */
    public static String validate(String store, String key, Limits limits) {
        String problem = problem(key, limits);
        if (problem != null) throw new InvalidKeyException(store, key, "invalid object key " + quote(key) + ": " + problem);
        return key;
    }

    /** Null if an app may store an object under this key, else which rule it breaks and how to fix it. */
    public static String appKeyProblem(String key, Limits limits) {
        String problem = problem(key, limits);
        if (problem != null) return problem;
        if (isReserved(key)) {
            return "keys starting with '" + RESERVED_PREFIX + "' are reserved for Bunker's own data (database backups); use another prefix";
        }
        return null;
    }

    public static boolean isReserved(String key) {
        return key.startsWith(RESERVED_PREFIX);
    }

    /** Null if the key is fine, else which rule it breaks and how to fix it. */
    public static String problem(String key, Limits limits) {
        if (key == null || key.isEmpty()) return "it is empty";
        int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxBytes()) {
            return "it is " + bytes + " bytes long in UTF-8; keys may be at most " + limits.maxBytes() + " bytes with the configured stores";
        }
        if (key.startsWith("/")) return "it starts with '/'; keys are relative, like photos/2024/a.jpg";
        if (key.endsWith("/")) return "it ends with '/', which names a folder, not an object";
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == 0) return "it contains a NUL character";
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return "it contains the control character U+" + String.format("%04X", (int) c) + " at position " + i;
            if (c == '\\') return "it contains '\\'; use '/' to separate segments";
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1)))
                    && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(key.charAt(i - 1)))) {
                return "it is not valid Unicode (a lone surrogate at position " + i + ")";
            }
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty()) return "it contains an empty segment ('//')";
            if (segment.equals(".") || segment.equals("..")) return "it contains a '" + segment + "' segment; name the object directly";
            int segmentBytes = segment.getBytes(StandardCharsets.UTF_8).length;
            if (segmentBytes > limits.maxSegmentBytes()) {
                return "its segment " + quote(segment) + " is " + segmentBytes + " bytes long in UTF-8; a segment may be at most "
                        + limits.maxSegmentBytes() + " bytes (a local store keeps each segment as a file name)";
            }
        }
        return null;
    }

    /** The key for messages: cut at 120 characters, control characters shown as '?'. */
    public static String quote(String key) {
        if (key == null) return "(none)";
        String shown = key.length() > 120 ? key.substring(0, 120) + "…" : key;
        return "'" + shown.replaceAll("[\\p{Cntrl}\\x{80}-\\x{9f}]", "?") + "'";
    }
}
