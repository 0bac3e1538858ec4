package dev.bunker.replication;

import dev.bunker.store.CheckedBytes;
import dev.bunker.store.CheckedChunks;
import dev.bunker.store.Sha256;
import dev.bunker.store.Staged;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Streams one source to several sinks at once, reading the source once (for local sinks, an object of
 * one chunk or less is read whole, checked, then written to each sink in turn). Each sink reads from its
 * own small queue of chunks, so memory is bounded (chunk size x queue depth x sinks) and a slow
 * sink only slows its own queue until it fills. The source's SHA-256 is computed on the way and
 * checked against the expected one BEFORE the sinks see the end of the stream: on a mismatch every
 * sink gets an error instead of EOF, so no store makes a wrong object visible. A local store takes
 * that digest for the bytes it wrote rather than hashing them again ({@link CheckedChunks}).
 */
final class FanOut {
    static final int CHUNK = 256 * 1024;
    static final int DEPTH = 4;

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
        Map<String, CheckedChunks> pipes = new LinkedHashMap<>();
        Map<String, Future<Staged>> futures = new LinkedHashMap<>();
        for (Map.Entry<String, Sink> e : sinks.entrySet()) {
            CheckedChunks pipe = new CheckedChunks(DEPTH);
            pipes.put(e.getKey(), pipe);
            futures.put(e.getKey(), pool.submit(() -> {
                try {
                    return e.getValue().write(pipe);
                } finally {
                    pipe.readerDone();
                }
            }));
        }
        MessageDigest digest = Sha256.newDigest();
        byte[] scratch = new byte[CHUNK];
        long size = 0;
        Exception sourceError = null;
        try {
            while (true) {
                byte[] chunk = readChunk(source, scratch);
                if (chunk.length == 0) break;
                digest.update(chunk);
                size += chunk.length;
                if (expectedSize != null && size > expectedSize) throw tooLong(expectedSize);
                for (CheckedChunks p : pipes.values()) p.offer(chunk);
            }
            String sha = Sha256.hex(digest.digest());
            checkWhole(size, sha, expectedSize, expectedSha256);
            for (CheckedChunks p : pipes.values()) p.finish(sha); // only now does a sink see the end
            return collect(size, sha, null, futures);
        } catch (IOException | RuntimeException e) {
            sourceError = e;
            for (CheckedChunks p : pipes.values()) p.fail(e);
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

    /**
     * The next chunk (empty at the end), copied out of {@code scratch} into an array no code but this class's and the
     * sinks' ever sees: the sinks share it and trust its digest, so it must never change after it is hashed, and a source
     * could keep the buffer it was given to read into.
     */
    private static byte[] readChunk(InputStream source, byte[] scratch) throws IOException {
        return java.util.Arrays.copyOf(scratch, source.readNBytes(scratch, 0, CHUNK));
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
}
