package dev.bunker.lifecycle;

import dev.bunker.db.Tx;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.store.GuardedStore;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cleanup job, and the ONLY code that deletes app objects from stores (besides backup pruning,
 * which removes only expired backups, it alone takes {@link GuardedStore#withDeletionPermit}). It purges objects whose purge time has come: deletes
 * them from every store, confirms each store no longer has them, and only then replaces the ledger
 * row with a tombstone. A store that refuses (a lock still active, an outage) is retried at the next
 * run, never forced. The mass-deletion brake stops a run that would purge more than the configured
 * share of objects or bytes within a day, until an operator confirms with {@code bunker purge --confirm}.
 */
public final class PurgeExpired {
    private static final Logger LOG = LoggerFactory.getLogger(PurgeExpired.class);
    private static final int BATCH = 10_000;

    /** What a run found and did. */
    public record Report(int due, long dueBytes, int purged, Map<String, String> failed, boolean brakeTripped, String brakeReason,
                         List<String> keys) {}

    private final DataSource db;
    private final LifecycleLedger rows;
    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Clock clock;
    private final DeletionBrake brake;

    PurgeExpired(DataSource db, LifecycleLedger rows, BunkerConfig config, Map<String, Store> stores, Clock clock, DeletionBrake brake) {
        this.db = db;
        this.rows = rows;
        this.config = config;
        this.stores = stores;
        this.clock = clock;
        this.brake = brake;
    }

    /**
     * One run. {@code dryRun}: report what would happen, change nothing. {@code confirm}: an operator
     * accepts a tripped (or about to trip) brake for this run.
     */
    public Report run(boolean dryRun, boolean confirm, String actor) throws SQLException {
        Instant now = clock.instant();
        Map<String, Long> due = rows.purgeDue(now, BATCH);
        List<String> keys = new ArrayList<>(due.keySet());
        long dueBytes = due.values().stream().mapToLong(Long::longValue).sum();
        if (dryRun) {
            String tripped = brake.trippedReason();
            return new Report(keys.size(), dueBytes, 0, Map.of(), tripped != null, tripped, keys);
        }
        long bytes = dueBytes;
        String braked = Tx.run(db, c -> brake.check(c, DeletionBrake.Step.PURGE, now, keys.size(), bytes, confirm, actor));
        if (braked != null) return new Report(keys.size(), dueBytes, 0, Map.of(), true, braked, keys);

        int purged = 0;
        Map<String, String> failed = new LinkedHashMap<>();
        for (String key : keys) {
            String problem = deleteEverywhere(key);
            if (problem != null) {
                failed.put(key, problem);
                LOG.warn("purge of {} incomplete, will retry: {}", key, problem);
                continue;
            }
            forget(key, now, actor);
            purged++;
        }
        return new Report(keys.size(), dueBytes, purged, failed, false, null, keys);
    }

    /** Deletes the object from every store and checks it is gone; null when it is gone everywhere, else why not. */
    private String deleteEverywhere(String key) {
        List<String> problems = new ArrayList<>();
        for (StoreConfig sc : config.stores().values()) {
            Store store = stores.get(sc.name());
            try {
                GuardedStore.withDeletionPermit("purge", () -> {
                    store.delete(key);
                    return null;
                });
                if (store.stat(key).isPresent()) problems.add(sc.name() + ": still there after delete");
            } catch (ObjectLockedException e) {
                problems.add(sc.name() + ": " + e.getMessage());
                releaseStrayHold(store, sc, key);
            } catch (StoreException e) {
                problems.add(sc.name() + ": " + e.getMessage());
            }
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    /**
     * A legal hold put on after the holds were released (a copy finishing just then) would keep the
     * object forever: release it the same careful way, so a later run can purge once retention ends.
     */
    private void releaseStrayHold(Store store, StoreConfig sc, String key) {
        if (sc.lock() == null || !(store instanceof LockableStore lockable)) return;
        try {
            LockState state = lockable.lockState(key);
            if (!state.legalHold()) return;
            lockable.applyLock(key, state.extendedFor(clock.instant(), sc.lock().period()), false);
        } catch (StoreException e) {
            LOG.warn("could not release a stray legal hold on {} in '{}': {}", key, sc.name(), e.getMessage());
        }
    }

    private void forget(String key, Instant now, String actor) throws SQLException {
        Tx.execute(db, c -> {
            LifecycleLedger.forget(c, key, now, actor);
            Audit.record(c, now, actor, "purge", key, "deleted from " + config.stores().keySet() + " and confirmed gone");
        });
    }

}
