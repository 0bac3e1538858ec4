package dev.bunker.store;

import java.util.concurrent.Semaphore;

/**
 * The bytes of upload data an S3 store may hold in memory at once, across all its uploads: a buffer is counted before
 * it is filled and released once its request is done, so the heap a store needs is bounded by its configuration
 * ({@code max-connections / 4} parts of {@code part-size}) whatever the number of workers and objects in flight.
 */
final class PartBudget {
    private static final int KIB = 1024;
    private final Semaphore kib;
    private final long bytes;

    PartBudget(long bytes) {
        this.bytes = bytes;
        this.kib = new Semaphore((int) Math.min(Integer.MAX_VALUE, kibOf(bytes)), true);
    }

    long bytes() { return bytes; }

    /** Bytes not held right now (in whole KiB). */
    long availableBytes() {
        return (long) kib.availablePermits() * KIB;
    }

    /** Waits until {@code n} bytes may be held. */
    void acquire(long n) throws InterruptedException {
        kib.acquire(kibOf(n));
    }

    /** {@code n} bytes are no longer held (rounded as they were counted). */
    void release(long n) {
        kib.release(kibOf(n));
    }

    /**
     * Of {@code held} bytes counted, keeps {@code kept} and releases the rest (a buffer that filled less than it
     * reserved).
     */
    void shrink(long held, long kept) {
        int excess = kibOf(held) - kibOf(kept);
        if (excess > 0) kib.release(excess);
    }

    private static int kibOf(long n) {
        return (int) Math.min(Integer.MAX_VALUE, (n + KIB - 1) / KIB);
    }
}
