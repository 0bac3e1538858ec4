package dev.bunker.backup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Pulls bytes from a source through a chain of output-stream filters (compress, encrypt) and serves
 * what comes out, one chunk at a time, so a store's put can read the end product without a thread
 * or a temp file in between. At the source's end the chain is closed (writing the final frames) and
 * {@code atEnd} runs: if it throws (say pg_dump exited with an error), the reader gets that error
 * instead of EOF, so the store never makes a half backup visible.
 */
final class TransformingInputStream extends InputStream {
    /** Wraps the sink with the filters to apply. */
    interface Chain {
        OutputStream wrap(OutputStream sink) throws IOException;
    }

    /** Checked once the source is exhausted, before EOF is reported. */
    interface EndCheck {
        void run() throws IOException;
    }

    private static final int CHUNK = 256 * 1024;

    private final InputStream source;
    private final EndCheck atEnd;
    private final Buffer produced = new Buffer();
    private final OutputStream chain;
    private final byte[] chunk = new byte[CHUNK];
    private int pos;
    private boolean finished;

    TransformingInputStream(InputStream source, Chain chain, EndCheck atEnd) throws IOException {
        this.source = source;
        this.atEnd = atEnd;
        this.chain = chain.wrap(produced);
    }

    @Override
    public int read() throws IOException {
        return dev.bunker.store.Sha256.readOneByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        while (pos >= produced.size()) {
            if (finished) return -1;
            produced.reset();
            pos = 0;
            int n = source.read(chunk);
            if (n < 0) {
                chain.close(); // final compressed frame and age chunk
                atEnd.run();
                finished = true;
            } else {
                chain.write(chunk, 0, n);
            }
        }
        int n = Math.min(len, produced.size() - pos);
        System.arraycopy(produced.bytes(), pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }

    /** A ByteArrayOutputStream whose array we may read without copying, and which ignores close (the chain closes it). */
    private static final class Buffer extends ByteArrayOutputStream {
        byte[] bytes() { return buf; }

        @Override
        public void close() {}
    }
}
