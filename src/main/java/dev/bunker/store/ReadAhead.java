package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream on a thread of its own while the caller works on what was read, as a shell pipe gives each step a
 * core (a restore decrypts while it decompresses; an export hashes a large object while it writes it). The stream the
 * caller reads ends only when the source ended: if reading failed, the caller's read fails with that same exception
 * instead of seeing an end (a {@link VerifiedStream.MismatchException} stays one). Chunks pass through a bounded queue
 * (not {@link java.io.PipedInputStream}, whose reader sleeps until the buffer is full or a second has passed), so both
 * threads work at once and at most 8 MiB is in between.
 */
public final class ReadAhead implements AutoCloseable {
    private static final int CHUNK = 1 << 20;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(8);
    private final Thread thread;
    private volatile IOException failure;
    private volatile boolean closed;

    /** Starts reading {@code source} on a thread named {@code name}; {@link #close} closes the source. */
    public ReadAhead(InputStream source, String name) {
        thread = new Thread(() -> pump(source), name);
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(InputStream source) {
        try (InputStream in = source) {
            while (!closed) {
                byte[] chunk = in.readNBytes(CHUNK);
                if (chunk.length == 0) break;
                chunks.put(chunk);
            }
        } catch (IOException e) {
            if (!closed) failure = e; // after close, an error is the interrupt's doing, not the data's
        } catch (RuntimeException | Error e) { // an Error must not pass for a clean end either
            if (!closed) failure = new IOException(e.getMessage(), e);
        } catch (InterruptedException e) {
            if (!closed) failure = new InterruptedIOException(Thread.currentThread().getName() + " interrupted");
        } finally {
            // The end marker is always delivered (the reader must not wait forever); after close nobody reads it.
            if (!closed) {
                try {
                    chunks.put(END);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** The source's bytes, in order; the end comes only after the reading thread finished without an error. */
    public InputStream stream() {
        return new InputStream() {
            private byte[] chunk = null;
            private int pos;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                if (chunk != END && (chunk == null || pos == chunk.length)) {
                    chunk = take();
                    pos = 0;
                }
                if (chunk == END) {
                    if (failure != null) throw failure;
                    return -1;
                }
                int n = Math.min(len, chunk.length - pos);
                System.arraycopy(chunk, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    private byte[] take() throws IOException {
        try {
            return chunks.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for " + thread.getName());
        }
    }

    /** What stopped the reading, once the thread has ended (after {@link #close}); null if nothing did. */
    public IOException failure() {
        return failure;
    }

    /** Stops the reading thread early (it is interrupted if it waits for room) and waits for it. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        chunks.clear();
    }
}
