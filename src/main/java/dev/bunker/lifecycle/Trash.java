package dev.bunker.lifecycle;

import dev.bunker.replication.ObjectState;
import dev.bunker.db.Tx;
import dev.bunker.config.BunkerConfig.LifecycleConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    static final String STATE = "select state from objects where key = ? for update";
    static final String TRASH = "update objects set state = 'trashed', trashed_at = ?, trashed_by = ? where key = ? and state = 'live'";
    static final String RESTORE = "update objects set state = 'live', trashed_at = null, trashed_by = null where key = ? and state = 'trashed' returning trashed_at";
    static final String LIST = """
            select key, size, trashed_at, trashed_by from objects
             where state = 'trashed' and key > ? order by key limit ?
            """;
    static final String EMPTY_ONE = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ? where key = ? and state = 'trashed' returning key
            """;
    static final String EMPTY_ALL = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ? where state = 'trashed' returning key
            """;
    static final String EXPIRED = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ?
             where state = 'trashed' and trashed_at <= ? returning key
            """;
    static final String EXPIRING = "select key, coalesce(size, 0) from objects where state = 'trashed' and trashed_at <= ? order by key";
    static final String UNDELETE = """
            update objects set state = 'live', trashed_at = null, trashed_by = null, deleted_at = null, deleted_by = null, purge_after = null
             where key = ? and state in ('deleting', 'deleted')
            """;

    private final DataSource db;
    private final LifecycleConfig config;
    private final Clock clock;
    private final DeletionBrake brake;

    public Trash(DataSource db, LifecycleConfig config, Clock clock, DeletionBrake brake) {
        this.db = db;
        this.config = config;
        this.clock = clock;
        this.brake = brake;
    }

    /** Moves a live object to the trash. */
    public Instant trash(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = state(c, key);
            if (state == ObjectState.TRASHED) return; // deleting twice is not an error
            if (state != ObjectState.LIVE) throw notRestorable(key, state);
            try (PreparedStatement ps = c.prepareStatement(TRASH)) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, actor);
                ps.setString(3, key);
                ps.executeUpdate();
            }
            Audit.record(c, now, actor, "trash", key, "restorable until " + now.plus(config.trash()));
        });
        return now.plus(config.trash());
    }

    /** Brings a trashed object back, unchanged. */
    public void restore(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = state(c, key);
            if (state == ObjectState.LIVE) throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is not in the trash");
            if (state != ObjectState.TRASHED) throw notRestorable(key, state);
            try (PreparedStatement ps = c.prepareStatement(RESTORE)) {
                ps.setString(1, key);
                ps.executeQuery().close();
            }
            Audit.record(c, now, actor, "restore", key, null);
        });
    }

    public List<Item> list(String after, int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(LIST)) {
            ps.setString(1, after == null ? "" : after);
            ps.setInt(2, limit);
            List<Item> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long size = rs.getLong(2);
                    Instant at = rs.getTimestamp(3).toInstant();
                    out.add(new Item(rs.getString(1), rs.wasNull() ? null : size, at, rs.getString(4), at.plus(config.trash())));
                }
            }
            return out;
        }
    }

    /** Permanently deletes one trashed object ({@code key}) or the whole trash ({@code null}); returns the keys. */
    public List<String> empty(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        List<String> keys = new ArrayList<>();
        inTransaction(c -> {
            if (key != null) {
                ObjectState state = state(c, key);
                if (state != ObjectState.TRASHED) {
                    throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is " + describe(state) + "; only trashed objects can be deleted for good");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(key == null ? EMPTY_ALL : EMPTY_ONE)) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, actor);
                if (key != null) ps.setString(3, key);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) keys.add(rs.getString(1));
                }
            }
            for (String k : keys) Audit.record(c, now, actor, "delete permanently", k, "trash emptied");
        });
        return keys;
    }

    /** Objects whose trash period has ended (the next {@link #expire} makes them permanently deleted), with their sizes. */
    public java.util.Map<String, Long> expiring() throws SQLException {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(EXPIRING)) {
            ps.setTimestamp(1, Timestamp.from(clock.instant().minus(config.trash())));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /**
     * Permanently deletes objects whose trash period has ended; returns how many, or -1 when the mass-deletion
     * brake stopped it ({@code confirmed}: an operator reviewed this set).
     */
    public int expire(boolean confirmed, String actor) throws SQLException {
        Instant now = clock.instant();
        java.util.Map<String, Long> due = expiring();
        long bytes = due.values().stream().mapToLong(Long::longValue).sum();
        List<String> keys = new ArrayList<>();
        boolean[] braked = {false};
        inTransaction(c -> {
            if (brake.check(c, DeletionBrake.Step.EXPIRE, now, due.size(), bytes, confirmed, actor) != null) {
                braked[0] = true;
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(EXPIRED)) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, actor + " (trash period ended)");
                ps.setTimestamp(3, Timestamp.from(now.minus(config.trash())));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) keys.add(rs.getString(1));
                }
            }
            for (String k : keys) Audit.record(c, now, actor, "delete permanently", k, "trash period of " + config.trash() + " ended");
        });
        return braked[0] ? -1 : keys.size();
    }

    /** Makes a permanently deleted, not yet purged object live again (see {@link Lifecycle#undelete}, which puts its holds back). */
    void undelete(String key, String actor) throws SQLException {
        Instant now = clock.instant();
        inTransaction(c -> {
            ObjectState state = state(c, key);
            if (state.kept()) {
                throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' is " + describe(state) + "; undelete is for permanently deleted objects"
                        + (state == ObjectState.TRASHED ? " (use restore)" : ""));
            }
            try (PreparedStatement ps = c.prepareStatement(UNDELETE)) {
                ps.setString(1, key);
                ps.executeUpdate();
            }
            Audit.record(c, now, actor, "undelete", key, "permanent deletion taken back before the purge; holds are put back");
        });
    }

    private static ObjectState state(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(STATE)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new LifecycleException(LifecycleException.Reason.NO_SUCH_OBJECT, "no object '" + key + "'");
                return ObjectState.of(rs.getString(1));
            }
        }
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
