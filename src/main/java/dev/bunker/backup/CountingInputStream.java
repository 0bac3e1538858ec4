package dev.bunker.backup;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/** Counts bytes and reports progress (MB of MB) as they pass. */
final class CountingInputStream extends java.io.FilterInputStream {
    private final long[] count;
    private final long total;
    private final Consumer<String> progress;

    CountingInputStream(InputStream in, long[] count, long total, Consumer<String> progress) {
        super(in);
        this.count = count;
        this.total = total;
        this.progress = progress;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) count[0]++;
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        // A point-in-time restore stops the base download when its WAL turns out unusable: no need to read the rest.
        if (Thread.currentThread().isInterrupted()) throw new java.io.InterruptedIOException("the restore was stopped");
        int n = super.read(b, off, len);
        if (n > 0) {
            long before = count[0];
            count[0] += n;
            if (before >> 23 != count[0] >> 23 || count[0] == total) { // every 8 MiB
                progress.accept(String.format("downloading: %.1f of %.1f MB", count[0] / 1e6, total / 1e6));
            }
        }
        return n;
    }
}
