package dev.bunker.pitr;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Positions in PostgreSQL's write-ahead log: LSNs as the server prints them ({@code 0/3000148}) and the names of the
 * segment files that hold them ({@code 000000010000000000000003}), for a cluster's segment size.
 */
public final class Wal {
    private static final Pattern LSN = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");

    private Wal() {}

    public static long parseLsn(String text) {
        Matcher m = LSN.matcher(text == null ? "" : text.trim());
        if (!m.matches()) throw new IllegalArgumentException("\"" + text + "\" is not a WAL position (an LSN such as 0/3000148)");
        return (Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16);
    }

    public static String formatLsn(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** The name of the segment file holding {@code lsn} on {@code timeline} (PostgreSQL's XLogFileName). */
    public static String segmentName(int timeline, long lsn, long segmentSize) {
        long segNo = lsn / segmentSize;
        long perId = 0x100000000L / segmentSize;
        return String.format("%08X%08X%08X", timeline, segNo / perId, segNo % perId);
    }

    /** The first LSN of the segment named {@code name}. */
    public static long segmentStart(String name, long segmentSize) {
        if (!isSegmentName(name)) throw new IllegalArgumentException("\"" + name + "\" is not a WAL segment name");
        long perId = 0x100000000L / segmentSize;
        long segNo = Long.parseLong(name.substring(8, 16), 16) * perId + Long.parseLong(name.substring(16, 24), 16);
        return segNo * segmentSize;
    }

    public static int timelineOf(String segmentName) {
        return Integer.parseInt(segmentName.substring(0, 8), 16);
    }

    public static boolean isSegmentName(String name) {
        return name != null && SEGMENT.matcher(name).matches();
    }
}
