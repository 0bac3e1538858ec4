package dev.bunker.store;

import java.time.Instant;

/** The Object Lock on one object: COMPLIANCE retain-until (null if none) and legal hold. */
public record LockState(Instant retainUntil, boolean legalHold) {
    public static final LockState NONE = new LockState(null, false);

    /** True while the object may not be deleted or overwritten. */
    public boolean protects(Instant now) {
        return legalHold || (retainUntil != null && retainUntil.isAfter(now));
    }

    /**
     * The retain-until that protects for at least {@code period} from {@code now} without shortening this lock: the
     * later of the two, in whole seconds rounded up (S3 servers keep retain-until dates at second precision).
     */
    public Instant extendedFor(Instant now, java.time.Duration period) {
        Instant wanted = now.plus(period).plusSeconds(1).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        return retainUntil != null && retainUntil.isAfter(wanted) ? retainUntil : wanted;
    }

    /** The protection of two versions together: the later retain-until, a hold if either has one. */
    public LockState and(LockState other) {
        Instant until = retainUntil == null ? other.retainUntil
                : other.retainUntil == null || retainUntil.isAfter(other.retainUntil) ? retainUntil : other.retainUntil;
        return new LockState(until, legalHold || other.legalHold);
    }

    /** This lock with the retention (null: kept) and the hold (null: kept) set as given. */
    public LockState with(Instant newRetainUntil, Boolean newLegalHold) {
        return new LockState(newRetainUntil != null ? newRetainUntil : retainUntil, newLegalHold != null ? newLegalHold : legalHold);
    }

    public String describe() {
        if (retainUntil == null && !legalHold) return "no lock";
        StringBuilder sb = new StringBuilder();
        if (retainUntil != null) sb.append("COMPLIANCE retention until ").append(retainUntil);
        if (legalHold) sb.append(sb.length() > 0 ? " and " : "").append("a legal hold");
        return sb.toString();
    }
}
