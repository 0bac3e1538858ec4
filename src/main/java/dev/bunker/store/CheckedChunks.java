package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One reader's end of a stream that a producer feeds chunk by chunk through a small bounded queue, and ends only once
 * the producer has hashed every chunk it gave and checked the whole: {@link #sha256} is then that digest. A store given
 * one unread writes its chunks as they come and takes that digest instead of hashing the same bytes again (replication
 * of a large object to several local targets hashes it once, not once more per target). The chunks are the producer's
 * own arrays, shared by its readers and never changed by anyone: a reader of the stream gets copies, and a store
 * writes them straight from the array, which writing does not change.
 */
public final class CheckedChunks extends InputStream {
    private static final byte[] EOF = new byte[0];

    private final BlockingQueue<byte[]> queue;
    private volatile boolean readerDone;
    private volatile IOException failure;
    private volatile String sha256;
    private byte[] current;
    private int pos;
    private boolean taken; // anything taken from the queue by this reader

    public CheckedChunks(int depth) {
        this.queue = new ArrayBlockingQueue<>(depth);
    }

    /**
     * Hands a chunk to the reader (the producer's own array, which it never changes afterwards); gives up once the reader
     * has stopped ({@link #readerDone}). Blocks while the queue is full.
     */
    public void offer(byte[] chunk) throws InterruptedIOException {
        if (chunk.length == 0) return;
        put(chunk);
    }

    /** Every chunk was given and the whole checked: the reader sees the end, and {@code sha256} is what its bytes hash to. */
    public void finish(String sha256) throws InterruptedIOException {
        this.sha256 = sha256;
        put(EOF);
    }

    /** The producer failed: the reader gets an error in place of the end, so no store makes a partial object visible. */
    public void fail(Exception cause) {
        failure = cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
        queue.clear();
        queue.offer(EOF); // wakes a reader blocked in take(); it then sees the failure
    }

    /** The reader is done (finished or failed): the producer stops waiting on it. */
    public void readerDone() {
        readerDone = true;
    }

    /** The SHA-256 of the whole stream; set once the reader has seen the end. */
    public String sha256() {
        return sha256;
    }

    private void put(byte[] chunk) throws InterruptedIOException {
        try {
            while (!readerDone) {
                if (queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("copy interrupted");
        }
    }

    /** The next chunk, or null at the end; an error when the producer failed. */
    private byte[] take() throws IOException {
        throwIfFailed(); // again on every call after a failure, never a wait for chunks that will not come
        byte[] chunk;
        try {
            chunk = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("copy interrupted");
        }
        taken = true;
        throwIfFailed();
        return chunk == EOF ? null : chunk;
    }

    private void throwIfFailed() throws IOException {
        if (failure != null) throw new IOException("source failed: " + failure.getMessage(), failure);
    }

    /** Nothing has been read yet: {@link #writeTo} may write every byte and trust {@link #sha256}. */
    boolean unread() {
        return !taken;
    }

    /**
     * Writes every chunk to {@code out} straight from the producer's arrays, to the end; returns the byte count. After it
     * returns, {@link #sha256} is the SHA-256 of exactly what was written.
     */
    long writeTo(WritableByteChannel out) throws IOException {
        if (!unread()) throw new IllegalStateException("partly read: hash what is read instead");
        long written = 0;
        for (byte[] chunk; (chunk = take()) != null; written += chunk.length) {
            ByteBuffer bb = ByteBuffer.wrap(chunk).asReadOnlyBuffer();
            while (bb.hasRemaining()) out.write(bb);
        }
        current = EOF;
        return written;
    }

    @Override
    public int read() throws IOException {
        return Sha256.readOneByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        while (current == null || pos == current.length) {
            if (current == EOF) return -1;
            byte[] next = take();
            current = next == null ? EOF : next;
            pos = 0;
            if (current == EOF) return -1;
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }
}
