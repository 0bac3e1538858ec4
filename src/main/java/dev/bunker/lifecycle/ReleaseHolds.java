package dev.bunker.lifecycle;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.db.Tx;
import dev.bunker.replication.Ledger;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
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
    static final String DELETING = "select key, deleted_at from objects where state = 'deleting' order by deleted_at limit ?";
    static final String ALL_DELETING = "select count(*), coalesce(sum(size), 0) from objects where state = 'deleting'";
    static final String DELETING_KEYS = "select key from objects where state = 'deleting' order by key";
    static final String MAX_RETAIN = "select max(retain_until) from copies where key = ?";
    static final String DELETED = "update objects set state = 'deleted', purge_after = ? where key = ? and state = 'deleting'";

    private final DataSource db;
    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Clock clock;
    private final DeletionBrake brake;

    public ReleaseHolds(DataSource db, BunkerConfig config, Map<String, Store> stores, Clock clock, DeletionBrake brake) {
        this.db = db;
        this.config = config;
        this.stores = stores;
        this.clock = clock;
        this.brake = brake;
    }

    /** How many objects wait for their holds to be released, and their bytes. */
    public long[] pending() throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ALL_DELETING); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    /** The objects waiting for their holds to be released, in key order. */
    public List<String> pendingKeys() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(DELETING_KEYS); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /**
     * Processes up to {@code limit} deleting objects; returns how many are now deleted (ready for purge later), or -1
     * when the mass-deletion brake stopped it before any hold was released ({@code confirmed}: an operator reviewed the set).
     */
    public int run(int limit, boolean confirmed, String actor) throws SQLException {
        if (pending()[0] == 0) return 0;
        // All of them count against the brake, not one batch: releasing is what makes them deletable at all.
        if (Tx.run(db, c -> brake.check(c, DeletionBrake.Step.RELEASE, clock.instant(), 0, 0, confirmed, actor)) != null) return -1;
        record Deleting(String key, Instant deletedAt) {}
        List<Deleting> batch = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(DELETING)) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) batch.add(new Deleting(rs.getString(1), rs.getTimestamp(2).toInstant()));
            }
        }
        int done = 0;
        for (Deleting d : batch) {
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
                    Ledger.holdReleased(c, key, sc.name(), until);
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
            try (PreparedStatement ps = c.prepareStatement(MAX_RETAIN)) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getTimestamp(1) != null && rs.getTimestamp(1).toInstant().isAfter(purgeAfter)) {
                        purgeAfter = rs.getTimestamp(1).toInstant();
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(DELETED)) {
                ps.setTimestamp(1, Timestamp.from(purgeAfter));
                ps.setString(2, key);
                ps.executeUpdate();
            }
            Audit.record(c, clock.instant(), "lifecycle", "ready for purge", key, "may be purged after " + purgeAfter);
        });
        return true;
    }
}
