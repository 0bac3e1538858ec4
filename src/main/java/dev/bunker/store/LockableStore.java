package dev.bunker.store;

import java.io.InputStream;
import java.time.Instant;

/**
 * A store that can keep objects under S3-style Object Lock in COMPLIANCE mode: a retain-until date
 * that can be extended but never shortened, and a legal hold. While either is active the object
 * cannot be deleted or overwritten, whoever asks.
 *
 * <p>Such a store keeps versions, as an S3 bucket with Object Lock does. {@link #put} refuses to
 * replace a locked object; {@link #putNewVersion} writes a new current version beside it (the way
 * to repair a locked copy that went bad: the bad version stays, locked, until its lock ends). The
 * lock calls act on every version of the key, and {@link #lockState} combines them (the latest
 * retain-until, a hold if any version has one), so it tells whether {@link #delete} would be refused.
 */
public interface LockableStore extends Store {
    /** Sets the retain-until date of every version; refused with {@link ObjectLockedException} if that would shorten one. */
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

    /**
     * Protects every version for at least {@code period} from {@code now} (retention extended, never shortened)
     * and puts the legal hold on; returns the retain-until applied. Stores that can read the versions' locks once
     * for both override this.
     */
    default Instant holdAndRetain(String key, Instant now, java.time.Duration period) {
        Instant until = lockState(key).extendedFor(now, period);
        applyLock(key, until, true);
        return until;
    }

    /**
     * Writes {@code data} as the new current version of {@code key} even if the current one is locked;
     * older versions keep their bytes and locks. The result's {@code versionId} names the new version.
     */
    PutResult putNewVersion(String key, InputStream data, PutOptions options);

    /** Fails with {@link LockNotSupportedException} if the store cannot keep locks (e.g. the bucket has Object Lock disabled). */
    void checkLockingEnabled();
}
