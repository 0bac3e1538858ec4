package dev.bunker.lifecycle;

import dev.bunker.replication.ObjectState;
import dev.bunker.db.Tx;
import dev.bunker.config.BunkerConfig.LifecycleConfig;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The trash: user deletes move objects here (nothing is removed from any store), they can be
 * restored unchanged within the trash period, and they become permanently deleted when it ends or
 * when the trash is emptied. Permanent deletion only marks the object; {@link ReleaseHolds} and
 * {@link PurgeExpired} do the rest.
 */
public final class Trash {
    /** A trashed object and when it becomes permanently deleted. */
    public record Item(String key, Long size, Instant trashedAt, String trashedBy, Instant permanentAt) {}

    private final DataSource db;
    private final LifecycleLedger rows;
    private final LifecycleConfig config;
    private final Clock clock;
    private final DeletionBrake brake;

    Trash(DataSource db, LifecycleLedger rows, LifecycleConfig config, Clock clock, DeletionBrake brake) {
        this.db = db;
        this.rows = rows;
        this.config = config;
        this.clock = clock;
        this.brake = brake;
    }

    /** Moves a live object to the trash. */
    public Instant trash(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = LifecycleLedger.lockState(c, key);
            if (state == ObjectState.TRASHED) return; // deleting twice is not an error
            if (state != ObjectState.LIVE) throw notRestorable(key, state);
            LifecycleLedger.trash(c, key, now, actor);
            Audit.record(c, now, actor, "trash", key, "restorable until " + now.plus(config.trash()));
        });
        return now.plus(config.trash());
    }

    /** Brings a trashed object back, unchanged. */
    public void restore(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = LifecycleLedger.lockState(c, key);
            if (state == ObjectState.LIVE) throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is not in the trash");
            if (state != ObjectState.TRASHED) throw notRestorable(key, state);
            LifecycleLedger.restore(c, key);
            Audit.record(c, now, actor, "restore", key, null);
        });
    }

    public List<Item> list(String after, int limit) throws SQLException {
        return rows.trashed(after, limit).stream()
                .map(t -> new Item(t.key(), t.size(), t.trashedAt(), t.trashedBy(), t.trashedAt().plus(config.trash())))
                .toList();
    }

    /** Permanently deletes one trashed object ({@code key}) or the whole trash ({@code null}); returns the keys. */
    public List<String> empty(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        List<String> keys = new ArrayList<>();
        inTransaction(c -> {
            if (key != null) {
                ObjectState state = LifecycleLedger.lockState(c, key);
                if (state != ObjectState.TRASHED) {
                    throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is " + describe(state) + "; only trashed objects can be deleted for good");
                }
            }
            keys.addAll(LifecycleLedger.deleteTrashed(c, key, now, actor));
            for (String k : keys) Audit.record(c, now, actor, "delete permanently", k, "trash emptied");
        });
        return keys;
    }

    /** Objects whose trash period has ended (the next {@link #expire} makes them permanently deleted), with their sizes. */
    public Map<String, Long> expiring() throws SQLException {
        return rows.trashedBefore(clock.instant().minus(config.trash()));
    }

    /**
     * Permanently deletes objects whose trash period has ended; returns how many, or -1 when the mass-deletion
     * brake stopped it ({@code confirmed}: an operator reviewed this set).
     */
    public int expire(boolean confirmed, String actor) throws SQLException {
        Instant now = clock.instant();
        Map<String, Long> due = expiring();
        long bytes = due.values().stream().mapToLong(Long::longValue).sum();
        List<String> keys = new ArrayList<>();
        boolean[] braked = {false};
        inTransaction(c -> {
            if (brake.check(c, DeletionBrake.Step.EXPIRE, now, due.size(), bytes, confirmed, actor) != null) {
                braked[0] = true;
                return;
            }
            keys.addAll(LifecycleLedger.deleteTrashedBefore(c, now.minus(config.trash()), now, actor + " (trash period ended)"));
            for (String k : keys) Audit.record(c, now, actor, "delete permanently", k, "trash period of " + config.trash() + " ended");
        });
        return braked[0] ? -1 : keys.size();
    }

    /** Makes a permanently deleted, not yet purged object live again (see {@link Lifecycle#undelete}, which puts its holds back). */
    void undelete(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = LifecycleLedger.lockState(c, key);
            if (state.kept()) {
                throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is " + describe(state) + "; undelete is for permanently deleted objects"
                        + (state == ObjectState.TRASHED ? " (use restore)" : ""));
            }
            LifecycleLedger.undelete(c, key);
            Audit.record(c, now, actor, "undelete", key, "permanent deletion taken back before the purge; holds are put back");
        });
    }

    private static LifecycleException notRestorable(String key, ObjectState state) {
        return new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is " + describe(state) + " and can no longer be restored");
    }

    static String describe(ObjectState state) {
        return switch (state) {
            case TRASHED -> "in the trash";
            case DELETING, DELETED -> "permanently deleted (waiting to be purged)";
            case LIVE -> "live";
        };
    }

    private void inTransaction(Tx.Steps work) throws SQLException {
        Tx.execute(db, work);
    }
}
