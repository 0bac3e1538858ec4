package dev.bunker.export;

import dev.bunker.store.Sha256;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The archive's SHA-256, taken on a thread of its own: the objects' own SHA-256 checks already keep one core busy, and
 * hashing the archive on the writing thread as well would double the time. Tasks run in order, so {@link #mark} and
 * {@link #reset} (an entry written again) see exactly the bytes handed over before them.
 */
final class BackgroundDigest implements AutoCloseable {
    private final ExecutorService hasher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "export-archive-sha256");
        t.setDaemon(true);
        return t;
    });
    /**
     * Buffers the bytes are copied into, reused (a fresh 1 MiB array per call costs more than hashing it); at most
     * this many wait to be hashed, so memory stays bounded when hashing is slower than writing.
     */
    private final java.util.concurrent.BlockingQueue<byte[]> free = new java.util.concurrent.ArrayBlockingQueue<>(8);
    static final int BUFFER = 1 << 20;
    private MessageDigest digest = Sha256.newDigest(); // touched on the hasher thread only
    private MessageDigest marked;
    private Future<?> last;

    BackgroundDigest() {
        for (int i = 0; i < 8; i++) free.add(new byte[BUFFER]);
    }

    /** Hashes a copy of the bytes (the caller reuses its buffer at once). */
    void update(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, BUFFER);
            byte[] copy;
            try {
                copy = free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while hashing the archive");
            }
            System.arraycopy(b, off, copy, 0, n);
            submit(() -> {
                try {
                    digest.update(copy, 0, n);
                } finally {
                    free.add(copy);
                }
            });
            off += n;
            len -= n;
        }
    }

    /** Remembers the digest of everything handed over so far. */
    void mark() throws IOException {
        submit(() -> {
            try {
                marked = (MessageDigest) digest.clone();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException("SHA-256 digests are cloneable in every JDK", e);
            }
        });
    }

    /** Goes back to the digest {@link #mark} remembered (the bytes after it were cut off the file). */
    void reset() throws IOException {
        submit(() -> digest = marked);
    }

    /** The SHA-256 (hex) of everything handed over, once the hasher has caught up. */
    String finish() throws IOException {
        Future<String> hex = hasher.submit(() -> Sha256.hex(digest.digest()));
        return await(hex);
    }

    private void submit(Runnable task) throws IOException {
        if (last != null && last.isDone()) await(last); // a failure surfaces on the next call
        last = hasher.submit(task);
    }

    private static <T> T await(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing the archive");
        } catch (ExecutionException e) {
            throw new IOException("hashing the archive failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public void close() {
        hasher.shutdownNow();
    }
}
