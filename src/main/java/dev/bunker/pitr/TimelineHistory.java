package dev.bunker.pitr;

import java.util.ArrayList;
import java.util.List;

/**
 * A timeline's history file ({@code 00000002.history}), as a promotion writes it: for each ancestor timeline, the LSN where
 * this timeline's path left it. A restore follows that path from the base backup's timeline to this one.
 */
public record TimelineHistory(int timeline, List<Switch> switches) {
    /** History files are a line per ancestor; a server promoted thousands of times would still fit. */
    public static final int MAX_BYTES = 64 * 1024;

    /** The path left timeline {@code parent} at {@code at}: the WAL from there on is the next timeline's. */
    public record Switch(int parent, long at) {}

    /**
     * One stretch of the path: the WAL of {@code timeline} from {@code from} to {@code to} (exclusive; Long.MAX_VALUE: no
     * end). Stretches meet at segment starts: the segment holding a switch point is read from the newer timeline's file,
     * which begins with a copy of the older timeline's bytes, as PostgreSQL's recovery reads it.
     */
    public record Leg(int timeline, long from, long to) {}

    public static String fileName(int timeline) {
        return String.format("%08X.history", timeline);
    }

    public static boolean isFileName(String name) {
        return name != null && name.matches("[0-9A-F]{8}\\.history") && !name.equals(fileName(0)) && !name.equals(fileName(1));
    }

    /** Parses the history file of {@code timeline}, refusing one that is not (a PitrException the caller is at fault for). */
    public static TimelineHistory parse(int timeline, String content) throws PitrException {
        if (timeline < 2) throw new PitrException("timeline " + timeline + " has no history file (only timelines from 2 on do)", true);
        List<Switch> switches = new ArrayList<>();
        int line = 0;
        for (String raw : content.split("\n", -1)) {
            line++;
            String text = raw.strip();
            if (text.isEmpty() || text.startsWith("#")) continue;
            String[] fields = text.split("\\s+", 3);
            try {
                if (fields.length < 2) throw new IllegalArgumentException("it has no switch point");
                int parent = Integer.parseInt(fields[0]);
                long at = Wal.parseLsn(fields[1]);
                Switch previous = switches.isEmpty() ? null : switches.get(switches.size() - 1);
                if (parent < 1 || parent >= timeline || (previous != null && (parent <= previous.parent() || at < previous.at()))) {
                    throw new IllegalArgumentException("timelines must rise and switch points must not go back");
                }
                switches.add(new Switch(parent, at));
            } catch (IllegalArgumentException e) {
                throw new PitrException("line " + line + " of " + fileName(timeline) + " (\"" + abbreviate(text) + "\") is not \"PARENT-TIMELINE "
                        + "SWITCH-LSN REASON\": " + e.getMessage(), true);
            }
        }
        if (switches.isEmpty()) throw new PitrException(fileName(timeline) + " names no parent timeline", true);
        return new TimelineHistory(timeline, List.copyOf(switches));
    }

    /** The switch into this timeline: from its parent, where. */
    public Switch last() {
        return switches.get(switches.size() - 1);
    }

    /** Where the path to this timeline left {@code ancestor} (-1: not an ancestor; Long.MAX_VALUE: this timeline itself). */
    public long leaves(int ancestor) {
        if (ancestor == timeline) return Long.MAX_VALUE;
        for (Switch s : switches) if (s.parent() == ancestor) return s.at();
        return -1;
    }

    /**
     * The path from {@code start} on timeline {@code base} to this timeline, in stretches read from one timeline's segment
     * files each (empty when {@code base} is not an ancestor).
     */
    public List<Leg> legsFrom(int base, long start, long segmentSize) {
        List<Leg> legs = new ArrayList<>();
        long from = start;
        boolean on = false;
        for (Switch s : switches) {
            on |= s.parent() == base;
            if (!on) continue;
            long to = Math.max(from, s.at() - s.at() % segmentSize);
            legs.add(new Leg(s.parent(), from, to));
            from = to;
        }
        if (on) legs.add(new Leg(timeline, from, Long.MAX_VALUE));
        return legs;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
