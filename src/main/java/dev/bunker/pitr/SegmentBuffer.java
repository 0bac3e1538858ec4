package dev.bunker.pitr;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** The WAL received and not yet stored: a run of bytes within one segment, from {@link #start} to {@link #end}. */
final class SegmentBuffer {
    private final long segmentSize;
    private byte[] bytes = new byte[1 << 20];
    private long start;
    private int length;
    private long firstByteNanos;

    SegmentBuffer(long segmentSize, long start) {
        this.segmentSize = segmentSize;
        this.start = start;
    }

    long start() { return start; }

    long end() { return start + length; }

    int length() { return length; }

    byte[] bytes() { return bytes; }

    boolean isEmpty() { return length == 0; }

    /** Whether the buffer reaches the end of its segment (the next byte belongs to the next one). */
    boolean segmentFull() {
        return length > 0 && end() % segmentSize == 0;
    }

    /** How long the oldest byte has waited (0 when empty). */
    long oldestAgeNanos() {
        return length == 0 ? 0 : System.nanoTime() - firstByteNanos;
    }

    /** Takes as much of {@code msg} as fits in this segment. */
    void append(ByteBuffer msg) {
        long room = segmentSize - end() % segmentSize;
        int n = (int) Math.min(msg.remaining(), room);
        if (length + n > bytes.length) bytes = Arrays.copyOf(bytes, (int) Math.min(segmentSize, Math.max((long) bytes.length * 2, length + n)));
        if (length == 0) firstByteNanos = System.nanoTime();
        msg.get(bytes, length, n);
        length += n;
    }

    /** Everything up to {@link #end} is stored: start again from there. */
    void clear() {
        start = end();
        length = 0;
    }
}
