package dev.bunker.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers; every JVM has the algorithm, so its absence is a bug, not an error to handle. */
public final class Sha256 {
    private Sha256() {}

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    /** The base64 form of a hex digest, as S3 checksums and HTTP digest fields (RFC 9530) write it. */
    public static String base64OfHex(String hex) {
        return java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex));
    }

    public static String hexOf(byte[] data) {
        return hex(newDigest().digest(data));
    }

    /** Reads {@code in} to its end and returns the hex SHA-256 of what it read (the caller closes it). */
    public static String hexOf(java.io.InputStream in) throws java.io.IOException {
        MessageDigest d = newDigest();
        byte[] buf = new byte[256 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) d.update(buf, 0, n);
        return hex(d.digest());
    }

    /** Reads one copy (a version, or the current one for null) to its end and returns its hex SHA-256. */
    public static String ofCopy(Store store, String key, String versionId) {
        try (java.io.InputStream in = store.get(key, versionId)) {
            return hexOf(in);
        } catch (java.io.IOException e) {
            throw new StoreUnavailableException(store.name(), key, "unable to read " + ObjectKeys.quote(key) + " from store '" + store.name()
                    + "': " + e.getMessage(), e);
        }
    }

    /**
     * The single-byte {@code read()} for streams that implement only the array read: one place for the
     * same four lines every filtering stream here needs.
     */
    public static int readOneByte(java.io.InputStream in) throws java.io.IOException {
        byte[] one = new byte[1];
        int n = in.read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }
}
