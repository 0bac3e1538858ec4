package dev.bunker.store;

import java.time.Instant;

/**
 * A store that can keep objects under S3-style Object Lock in COMPLIANCE mode: a retain-until date
 * that can be extended but never shortened, and a legal hold. While either is active the object
 * cannot be deleted or overwritten, whoever asks.
 */
public interface LockableStore extends Store {
    /** Sets the retain-until date; refused with {@link ObjectLockedException} if that would shorten the current one. */
    void extendRetention(String key, Instant retainUntil);

    void setLegalHold(String key, boolean on);

    LockState lockState(String key);

    /**
     * Sets retention (extend only) and then the legal hold, in that order, so the object is never
     * less protected in between. Stores that can do both in one write override this.
     */
    default void applyLock(String key, Instant retainUntil, boolean legalHold) {
        if (retainUntil != null) extendRetention(key, retainUntil);
        setLegalHold(key, legalHold);
    }

    /** Fails with {@link LockNotSupportedException} if the store cannot keep locks (e.g. the bucket has Object Lock disabled). */
    void checkLockingEnabled();
}
