package dev.bunker.store;

import java.io.ByteArrayInputStream;

/**
 * Bytes held in memory together with the SHA-256 this class computed from them. A store given one unread writes the
 * array as it is and takes the digest instead of hashing the same memory again: replication hashes a small object
 * once, not once more per target. The array is this class's own and never changed; any other reader (a wrapper that
 * filters the stream, a partly read stream) gets the bytes through the stream and hashes them as usual.
 */
public final class CheckedBytes extends ByteArrayInputStream {
    private final String sha256;

    private CheckedBytes(byte[] data, String sha256) {
        super(data);
        this.sha256 = sha256;
    }

    /**
     * Reads up to {@code max} bytes of {@code in} into an array of its own, which no one else ever holds (so nothing
     * can change it after it is hashed), and hashes them.
     */
    public static CheckedBytes readFrom(java.io.InputStream in, int max) throws java.io.IOException {
        byte[] data = in.readNBytes(max);
        return new CheckedBytes(data, Sha256.hexOf(data));
    }

    /** Another unread stream over the same bytes and digest (one per target). */
    public CheckedBytes reread() {
        return new CheckedBytes(buf, sha256);
    }

    /** Through a copy: ByteArrayInputStream's own hands the array itself to {@code out} (on JDK 17), which could write to it. */
    @Override
    public synchronized long transferTo(java.io.OutputStream out) throws java.io.IOException {
        byte[] chunk = new byte[64 * 1024];
        long n = 0;
        for (int r; (r = read(chunk, 0, chunk.length)) > 0; n += r) out.write(chunk, 0, r);
        return n;
    }

    public String sha256() { return sha256; }

    public int size() { return count; }

    /** The whole array, when nothing has been read or skipped yet (else null: read the stream). */
    byte[] unreadBytes() {
        return pos == 0 && count == buf.length ? buf : null;
    }
}
