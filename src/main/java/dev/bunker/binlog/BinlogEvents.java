package dev.bunker.binlog;

import java.io.IOException;
import java.time.Instant;

/**
 * Finds whole events in a stretch of a binary log file (format v4: the magic number {@code FE 62 69 6E}, then events
 * with a 19-byte header: timestamp, type, server id, event length, next position, flags), so only whole events are
 * stored and a chunk always ends where the next one can start.
 */
final class BinlogEvents {
    static final byte[] MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
    static final int HEADER = 19;
    static final int STOP = 3;
    static final int ROTATE = 4;
    static final long MAX_EVENT = 1L << 30; // max_allowed_packet's ceiling: a larger length is not an event

    /** What a scan found: {@code end} bytes of whole events from the stretch's start; times of the first and last (null: none); whether the last ends the file. */
    record Scan(int end, Instant firstEventAt, Instant lastEventAt, boolean rotated, int events) {}

    private BinlogEvents() {}

    /** Scans {@code buf[0..length)}, which starts at byte {@code fileOffset} of its file (0: the magic number comes first). */
    static Scan scan(byte[] buf, int length, long fileOffset, String file) throws IOException {
        int p = 0;
        if (fileOffset == 0) {
            if (length < MAGIC.length) return new Scan(0, null, null, false, 0);
            for (int i = 0; i < MAGIC.length; i++) {
                if (buf[i] != MAGIC[i]) throw new IOException(file + " does not start with a binary log's magic number");
            }
            p = MAGIC.length;
        }
        Instant first = null;
        Instant last = null;
        boolean rotated = false;
        int events = 0;
        while (length - p >= HEADER) {
            long size = u32(buf, p + 9);
            if (size < HEADER || size > MAX_EVENT) {
                throw new IOException(file + " has no valid event at byte " + (fileOffset + p) + " (length " + size + ")");
            }
            if (p + size > length) break;
            Instant at = Instant.ofEpochSecond(u32(buf, p));
            if (first == null) first = at;
            last = at;
            rotated = buf[p + 4] == ROTATE || buf[p + 4] == STOP; // the file's last event: a rotation, or the server's shutdown
            p += (int) size;
            events++;
        }
        return new Scan(p, first, last, rotated, events); // with no whole event yet, nothing is stored (the caller waits)
    }

    private static long u32(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }
}
