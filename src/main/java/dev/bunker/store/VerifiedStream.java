package dev.bunker.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The one stream that checks bytes against what they should be while passing them on: SHA-256 always
 * (and MD5 when a client sent Content-MD5). A mismatch never reaches the reader as a clean end:
 * <ul>
 * <li>with a known size (a stored copy), the LAST bytes are handed out only after size and SHA-256
 *     matched, so a reader (an HTTP response, a restore) is always left short of the size, with an error;</li>
 * <li>with an unknown size (an upload), the end of the stream is reported only after the checksums
 *     matched, so a store writing it never makes a wrong object visible.</li>
 * </ul>
 */
public final class VerifiedStream extends FilterInputStream {
    /** The bytes differ from what was expected. */
    public static final class MismatchException extends IOException {
        public MismatchException(String message) {
            super(message);
        }
    }

    /** Told once, before the failing read throws, what was wrong (to record the bad copy). */
    @FunctionalInterface
    public interface OnMismatch {
        void found(String problem);
    }

    private final long size;
    private final String sha256;
    private final String md5Base64;
    private final String what;
    private final String advice;
    private final String expectedFrom;
    private final OnMismatch onMismatch;
    private final MessageDigest digest = Sha256.newDigest();
    private final MessageDigest md5;
    private long count;
    private boolean verified;
    private String actualSha256;
    private MismatchException failed;

    /** A stored copy: {@code size} and {@code sha256} known; {@code what} names it in messages, e.g. "the copy of 'a' in store 'x'". */
    public VerifiedStream(InputStream in, long size, String sha256, String what, OnMismatch onMismatch) {
        this(in, size, sha256, null, what, " (the ledger's)", "the read was cut short, retry to read a verified replica", onMismatch);
    }

    /**
     * Any stream: {@code size} -1 when unknown, {@code sha256} (hex) and {@code md5Base64} null when not to be checked;
     * {@code expectedFrom} says where the expected SHA-256 came from, {@code advice} ends the mismatch message.
     */
    public VerifiedStream(InputStream in, long size, String sha256, String md5Base64, String what, String expectedFrom, String advice,
                          OnMismatch onMismatch) {
        super(in);
        this.expectedFrom = expectedFrom;
        this.size = size;
        this.sha256 = sha256 == null ? null : sha256.toLowerCase();
        this.md5Base64 = md5Base64;
        this.what = what;
        this.advice = advice;
        this.onMismatch = onMismatch;
        try {
            this.md5 = md5Base64 == null ? null : MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int read() throws IOException {
        return Sha256.readOneByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (verified) return -1;
        if (failed != null) throw failed;
        if (len == 0) return 0;
        if (size >= 0 && count == size) {
            verifyEnd();
            return -1;
        }
        int n = super.read(b, off, size >= 0 ? (int) Math.min(len, size - count) : len);
        if (n < 0) {
            if (size >= 0) throw mismatch(what + " ended after " + count + " bytes; " + size + " were expected");
            verifyEnd(); // unknown size: the end is reported only once the checksums matched
            return -1;
        }
        digest.update(b, off, n);
        if (md5 != null) md5.update(b, off, n);
        count += n;
        if (size >= 0 && count == size) verifyEnd(); // before these last bytes leave
        return n;
    }

    private void verifyEnd() throws IOException {
        if (size >= 0 && super.read() >= 0) throw mismatch(what + " has more than the " + size + " bytes expected");
        actualSha256 = Sha256.hex(digest.digest());
        if (sha256 != null && !actualSha256.equals(sha256)) throw mismatch(what + " has SHA-256 " + actualSha256 + ", expected " + sha256 + expectedFrom);
        if (md5 != null) {
            String actual = Base64.getEncoder().encodeToString(md5.digest());
            if (!actual.equals(md5Base64)) throw mismatch(what + " has MD5 " + actual + " but Content-MD5 says " + md5Base64);
        }
        verified = true;
    }

    private MismatchException mismatch(String problem) {
        onMismatch.found(problem);
        failed = new MismatchException(problem + "; " + advice);
        return failed;
    }

    /** The SHA-256 (hex) of everything read, once the end was reached and matched. */
    public String sha256() { return actualSha256; }

    /** How many bytes have been read. */
    public long count() { return count; }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("a verified stream cannot skip: every byte must be hashed");
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
