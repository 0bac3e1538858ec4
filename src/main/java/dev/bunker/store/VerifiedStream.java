package dev.bunker.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes an object's bytes through while hashing them, and hands out the LAST bytes only after the
 * size and SHA-256 matched what was expected. On a mismatch the final read fails instead, so a
 * reader (an HTTP response, a restore) never gets a complete, successful stream of wrong bytes:
 * it is always short of the expected size and ends in an error.
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
    private final String what;
    private final OnMismatch onMismatch;
    private final MessageDigest digest = Sha256.newDigest();
    private long count;
    private boolean verified;
    private MismatchException failed;

    /** {@code what} names the copy in messages, e.g. "the copy of 'a.jpg' in store 'primary'". */
    public VerifiedStream(InputStream in, long size, String sha256, String what, OnMismatch onMismatch) {
        super(in);
        this.size = size;
        this.sha256 = sha256;
        this.what = what;
        this.onMismatch = onMismatch;
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
        if (count == size) {
            verifyEnd();
            return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, size - count));
        if (n < 0) throw mismatch(what + " ended after " + count + " bytes; the ledger records " + size);
        digest.update(b, off, n);
        count += n;
        if (count == size) verifyEnd(); // before these last bytes leave
        return n;
    }

    private void verifyEnd() throws IOException {
        if (super.read() >= 0) throw mismatch(what + " has more than the " + size + " bytes the ledger records");
        String actual = Sha256.hex(digest.digest());
        if (!actual.equals(sha256)) throw mismatch(what + " has SHA-256 " + actual + ", the ledger records " + sha256);
        verified = true;
    }

    private MismatchException mismatch(String problem) {
        onMismatch.found(problem);
        failed = new MismatchException(problem + "; the read was cut short, retry to read a verified replica");
        return failed;
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("a verified stream cannot skip: every byte must be hashed");
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
