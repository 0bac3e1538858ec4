package dev.bunker.lifecycle;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.db.Tx;
import dev.bunker.replication.CopyRecords;
import dev.bunker.replication.LedgerCounts;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For permanently deleted objects: on every locked store, extend the COMPLIANCE retention to at least
 * now + the lock period and only then release the legal hold (so the copy is never unprotected in
 * between), then mark the object deleted with the earliest time it may be purged: the later of
 * deletion + cleanup-after and the latest retain-until of any copy. A store that fails is retried at
 * the next run; the object stays "deleting" until every hold is released.
 */
public final class ReleaseHolds {
    private static final Logger LOG = LoggerFactory.getLogger(ReleaseHolds.class);

    private final DataSource db;
    private final LifecycleLedger rows;
    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Clock clock;
    private final DeletionBrake brake;

    ReleaseHolds(DataSource db, LifecycleLedger rows, BunkerConfig config, Map<String, Store> stores, Clock clock, DeletionBrake brake) {
        this.db = db;
        this.rows = rows;
        this.config = config;
        this.stores = stores;
        this.clock = clock;
        this.brake = brake;
    }

    /** How many objects wait for their holds to be released, and their bytes. */
    public long[] pending() throws SQLException {
        LedgerCounts.Amount a = rows.deletingAmount();
        return new long[] {a.count(), a.bytes()};
    }

    /** The objects waiting for their holds to be released, in key order. */
    public List<String> pendingKeys() throws SQLException {
        return rows.deletingKeys();
    }

    /**
     * Processes up to {@code limit} deleting objects; returns how many are now deleted (ready for purge later), or -1
     * when the mass-deletion brake stopped it before any hold was released ({@code confirmed}: an operator reviewed the set).
     */
    public int run(int limit, boolean confirmed, String actor) throws SQLException {
        if (pending()[0] == 0) return 0;
        // All of them count against the brake, not one batch: releasing is what makes them deletable at all.
        if (Tx.run(db, c -> brake.check(c, DeletionBrake.Step.RELEASE, clock.instant(), 0, 0, confirmed, actor)) != null) return -1;
        int done = 0;
        for (LifecycleLedger.Deleting d : rows.deleting(limit)) {
            if (release(d.key(), d.deletedAt())) done++;
        }
        return done;
    }

    private boolean release(String key, Instant deletedAt) throws SQLException {
        boolean allReleased = true;
        for (StoreConfig sc : config.stores().values()) {
            if (sc.lock() == null) continue;
            LockableStore store = (LockableStore) stores.get(sc.name());
            Instant now = clock.instant();
            try {
                Instant until = store.lockState(key).extendedFor(now, sc.lock().period());
                store.applyLock(key, until, false); // retention first, then the hold: see LockableStore.applyLock
                Tx.execute(db, c -> {
                    CopyRecords.holdReleased(c, key, sc.name(), until);
                    Audit.record(c, now, "lifecycle", "release hold", key, "store " + sc.name() + ": retention extended to " + until + ", legal hold released");
                });
            } catch (ObjectNotFoundException e) {
                // No copy there: nothing to release.
            } catch (StoreException e) {
                allReleased = false;
                LOG.warn("could not release the hold on {} in store '{}', will retry: {}", key, sc.name(), e.getMessage());
            }
        }
        if (!allReleased) return false;
        Tx.execute(db, c -> {
            Instant purgeAfter = deletedAt.plus(config.lifecycle().cleanupAfter());
            Instant retained = CopyRecords.latestRetainUntil(c, key);
            if (retained != null && retained.isAfter(purgeAfter)) purgeAfter = retained;
            LifecycleLedger.released(c, key, purgeAfter);
            Audit.record(c, clock.instant(), "lifecycle", "ready for purge", key, "may be purged after " + purgeAfter);
        });
        return true;
    }
}
