package dev.bunker.pitr;

import dev.bunker.backup.Manifest;
import java.time.Duration;
import java.time.Instant;

/**
 * Where a point-in-time restore stops: at a time (every transaction committed at or before it is kept), before a WAL
 * position (every record that starts before it is replayed, the one starting there and all after it are not: PostgreSQL's
 * {@code recovery_target_lsn} with {@code recovery_target_inclusive = off}, so an LSN read off the commit of a bad
 * transaction undoes it), or at the end of the stored WAL. Exactly one of {@code time} and {@code lsn} is set, or neither.
 */
public record RecoveryTarget(Instant time, Long lsn) {
    /** Chunks received this long after a target time are read too: a commit made just before it may arrive a little later. */
    static final Duration ARRIVAL_SLACK = Duration.ofSeconds(60);
    /** As recovery_target_time takes it (it refuses ISO 8601's T and Z). */
    private static final java.time.format.DateTimeFormatter PG_TIME = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'")
            .withZone(java.time.ZoneOffset.UTC);

    public RecoveryTarget {
        if (time != null && lsn != null) throw new IllegalArgumentException("a recovery target is a time or a WAL position, not both");
    }

    /** As the source was at {@code time}; null: its latest stored state. */
    public static RecoveryTarget at(Instant time) {
        return new RecoveryTarget(time, null);
    }

    /** As the source was just before the WAL record at {@code lsn}. */
    public static RecoveryTarget beforeLsn(long lsn) {
        return new RecoveryTarget(null, lsn);
    }

    public boolean isLatest() {
        return time == null && lsn == null;
    }

    /** Whether a transaction that committed at {@code at} with a record starting at {@code recordLsn} is part of the restored state. */
    boolean keeps(Instant at, long recordLsn) {
        if (lsn != null) return recordLsn < lsn;
        return time == null || !at.isAfter(time);
    }

    /** Whether a restore to this target can start from {@code base}: the base backup is consistent by then. */
    boolean startsFrom(Manifest base) {
        if (lsn != null) return Wal.parseLsn(base.wal().end()) <= lsn;
        return time == null || !base.finishedAt().isAfter(time);
    }

    /** Whether WAL stored up to {@code reached}, last received (or marked complete) at {@code newest}, holds all this target needs. */
    boolean reachedBy(long reached, Instant newest) {
        if (lsn != null) return reached >= lsn;
        return time == null || (newest != null && !newest.isBefore(time));
    }

    /** The latest arrival time of a chunk worth listing (null: all of them). */
    Instant listUntil() {
        return time == null ? null : time.plus(ARRIVAL_SLACK);
    }

    /** The value of the recovery setting that stops replay here. */
    String setting() {
        return lsn != null ? Wal.formatLsn(lsn) : time == null ? null : PG_TIME.format(time);
    }

    /** How a message names it. */
    public String describe() {
        return lsn != null ? "WAL position " + Wal.formatLsn(lsn) : time == null ? "its latest state" : time.toString();
    }

    /** The restorable window from {@code base} as this kind of target names it, given where its WAL ends. */
    String window(Manifest base, long reached, Instant newest) {
        return lsn != null ? base.wal().end() + " to " + Wal.formatLsn(reached) : base.finishedAt() + " to about " + newest;
    }
}
