package dev.bunker.replication;

import dev.bunker.store.CheckedBytes;
import dev.bunker.store.Sha256;
import dev.bunker.store.Staged;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Streams one source to several sinks at once, reading the source once (for local sinks, an object of
 * one chunk or less is read whole, checked, then written to each sink in turn). Each sink reads from its
 * own small queue of chunks, so memory is bounded (chunk size x queue depth x sinks) and a slow
 * sink only slows its own queue until it fills. The source's SHA-256 is computed on the way and
 * checked against the expected one BEFORE the sinks see the end of the stream: on a mismatch every
 * sink gets an error instead of EOF, so no store makes a wrong object visible.
 */
final class FanOut {
    static final int CHUNK = 256 * 1024;
    static final int DEPTH = 4;
    private static final byte[] EOF = new byte[0];

    /** Writes (or stages, see {@link dev.bunker.store.Store#stage}) what it reads to one store. */
    interface Sink {
        Staged write(InputStream in) throws Exception;
    }

    /** What happened: the source's size and hash, the read error if any, and each sink's result or error. */
    record Result(long size, String sha256, Exception sourceError, Map<String, Staged> written, Map<String, Exception> failed) {}

    private FanOut() {}

    /** {@code inlineSmall}: write an object of one chunk or less to the sinks in turn on this thread (cheap, local sinks). */
    static Result run(InputStream source, Long expectedSize, String expectedSha256, Map<String, Sink> sinks, ExecutorService pool,
                      boolean inlineSmall) throws InterruptedException {
        if (inlineSmall && expectedSize != null && expectedSize <= CHUNK) return runSmall(source, expectedSize, expectedSha256, sinks);
        Map<String, Pipe> pipes = new LinkedHashMap<>();
        Map<String, Future<Staged>> futures = new LinkedHashMap<>();
        for (Map.Entry<String, Sink> e : sinks.entrySet()) {
            Pipe pipe = new Pipe();
            pipes.put(e.getKey(), pipe);
            futures.put(e.getKey(), pool.submit(() -> {
                try {
                    return e.getValue().write(pipe);
                } finally {
                    pipe.readerDone = true;
                }
            }));
        }
        MessageDigest digest = Sha256.newDigest();
        long size = 0;
        Exception sourceError = null;
        try {
            while (true) {
                byte[] chunk = source.readNBytes(CHUNK);
                if (chunk.length == 0) break;
                digest.update(chunk);
                size += chunk.length;
                if (expectedSize != null && size > expectedSize) throw tooLong(expectedSize);
                for (Pipe p : pipes.values()) p.offer(chunk);
            }
            String sha = Sha256.hex(digest.digest());
            checkWhole(size, sha, expectedSize, expectedSha256);
            for (Pipe p : pipes.values()) p.offer(EOF);
            return collect(size, sha, null, futures);
        } catch (IOException | RuntimeException e) {
            sourceError = e;
            for (Pipe p : pipes.values()) p.fail(e);
            return collect(size, null, sourceError, futures);
        }
    }

    /**
     * An object of one chunk or less: read whole and checked first, then written to each sink in turn on this
     * thread; for sinks that write locally, handing one chunk to other threads costs more than the writes.
     */
    private static Result runSmall(InputStream source, long expectedSize, String expectedSha256, Map<String, Sink> sinks) {
        CheckedBytes data;
        try {
            data = CheckedBytes.readFrom(source, CHUNK + 1); // hashed once here; a local target writes it without hashing it again
            if (data.size() > expectedSize) throw tooLong(expectedSize);
            checkWhole(data.size(), data.sha256(), expectedSize, expectedSha256);
        } catch (IOException | RuntimeException e) {
            return new Result(0, null, e, Map.of(), Map.of());
        }
        Map<String, Staged> written = new LinkedHashMap<>();
        Map<String, Exception> failed = new LinkedHashMap<>();
        for (Map.Entry<String, Sink> e : sinks.entrySet()) {
            try {
                written.put(e.getKey(), e.getValue().write(data.reread()));
            } catch (Exception ex) {
                failed.put(e.getKey(), ex);
            }
        }
        return new Result(data.size(), data.sha256(), null, written, failed);
    }

    private static IOException tooLong(long expectedSize) {
        return new IOException("the source has more than the recorded " + expectedSize + " bytes");
    }

    /** The whole source, read: its size and SHA-256 must be the ledger's (when it records them). */
    private static void checkWhole(long size, String sha, Long expectedSize, String expectedSha256) throws IOException {
        if (expectedSize != null && size != expectedSize) {
            throw new IOException("the source has " + size + " bytes, the ledger records " + expectedSize);
        }
        if (expectedSha256 != null && !expectedSha256.equals(sha)) {
            throw new SourceMismatchException("the source's SHA-256 is " + sha + ", the ledger records " + expectedSha256);
        }
    }

    private static Result collect(long size, String sha, Exception sourceError, Map<String, Future<Staged>> futures)
            throws InterruptedException {
        Map<String, Staged> written = new LinkedHashMap<>();
        Map<String, Exception> failed = new LinkedHashMap<>();
        for (Map.Entry<String, Future<Staged>> f : futures.entrySet()) {
            try {
                written.put(f.getKey(), f.getValue().get());
            } catch (ExecutionException e) {
                failed.put(f.getKey(), e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause()));
            }
        }
        return new Result(size, sha, sourceError, written, failed);
    }

    /** The source's bytes differ from what the ledger recorded. */
    static final class SourceMismatchException extends IOException {
        SourceMismatchException(String message) {
            super(message);
        }
    }

    /** One sink's end: an InputStream fed chunk by chunk from a bounded queue. */
    private static final class Pipe extends InputStream {
        private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(DEPTH);
        private volatile boolean readerDone;
        private volatile IOException failure;
        private byte[] current;
        private int pos;

        /** Hands a chunk to the sink; gives up if the sink has stopped reading (it failed). */
        void offer(byte[] chunk) throws InterruptedIOExceptionWrapper {
            try {
                while (!readerDone) {
                    if (queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOExceptionWrapper();
            }
        }

        void fail(Exception cause) {
            failure = cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
            queue.clear();
            queue.offer(EOF); // wakes a reader blocked in take(); it then sees the failure
        }

        @Override
        public int read() throws IOException {
            return dev.bunker.store.Sha256.readOneByte(this);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            while (current == null || pos == current.length) {
                if (current == EOF && failure == null) return -1;
                try {
                    current = queue.take();
                    pos = 0;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("copy interrupted");
                }
                if (failure != null) throw new IOException("source failed: " + failure.getMessage(), failure);
                if (current == EOF) return -1;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** The copying thread was interrupted (the process is stopping). */
    static final class InterruptedIOExceptionWrapper extends RuntimeException {
        InterruptedIOExceptionWrapper() {
            super("copy interrupted");
        }
    }
}
