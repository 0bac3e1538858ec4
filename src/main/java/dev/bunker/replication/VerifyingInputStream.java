package dev.bunker.replication;

import dev.bunker.store.Sha256;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Passes bytes through while hashing them and, at the end of the stream, throws instead of
 * reporting EOF if they do not match the checksum the client sent. A store treats that as a failed
 * input, so a body that does not match its checksum never becomes a visible object.
 */
final class VerifyingInputStream extends FilterInputStream {
    /** The body's bytes do not match the checksum sent with it. */
    static final class ChecksumMismatchException extends IOException {
        ChecksumMismatchException(String message) {
            super(message);
        }
    }

    private final MessageDigest sha256 = Sha256.newDigest();
    private final MessageDigest md5;
    private final String expectedSha256;
    private final String expectedMd5;
    private long count;
    private boolean checked;
    private String shaHex;

    VerifyingInputStream(InputStream in, String expectedSha256Hex, String expectedMd5Base64) {
        super(in);
        this.expectedSha256 = expectedSha256Hex == null ? null : expectedSha256Hex.toLowerCase();
        this.expectedMd5 = expectedMd5Base64;
        try {
            this.md5 = expectedMd5Base64 == null ? null : MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int read() throws IOException {
        return dev.bunker.store.Sha256.readOneByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            sha256.update(b, off, n);
            if (md5 != null) md5.update(b, off, n);
            count += n;
        } else if (n < 0) {
            check();
        }
        return n;
    }

    private void check() throws IOException {
        if (checked) return;
        checked = true;
        String sha = Sha256.hex(sha256.digest());
        shaHex = sha;
        if (expectedSha256 != null && !expectedSha256.equals(sha)) {
            throw new ChecksumMismatchException("the body's SHA-256 is " + sha + " but x-bunker-sha256 says " + expectedSha256);
        }
        if (md5 != null) {
            String actual = Base64.getEncoder().encodeToString(md5.digest());
            if (!actual.equals(expectedMd5)) {
                throw new ChecksumMismatchException("the body's MD5 is " + actual + " but Content-MD5 says " + expectedMd5);
            }
        }
    }

    /** The SHA-256 of everything read, once the end was reached. */
    String sha256() { return shaHex; }

    long count() { return count; }
}
