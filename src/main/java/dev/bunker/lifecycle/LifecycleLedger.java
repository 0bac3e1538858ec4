package dev.bunker.lifecycle;

import dev.bunker.db.Sql;
import dev.bunker.replication.LedgerCounts;
import dev.bunker.replication.ObjectState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The one owner of the lifecycle's SQL: the state columns of {@code objects} (live → trashed → deleting → deleted, and
 * back), and {@code tombstones}. The rows themselves and their copies are {@link dev.bunker.replication.Ledger}'s.
 * Every transition names the state it leaves, so two racing callers cannot both make it.
 */
final class LifecycleLedger {
    /** A trashed object, as stored. */
    record Trashed(String key, Long size, Instant trashedAt, String trashedBy) {}

    /** A permanently deleted object whose holds are still to be released. */
    record Deleting(String key, Instant deletedAt) {}

    /** How many objects and bytes. */
    static final String STATE = "select state from objects where key = ? for update";
    static final String TRASH = "update objects set state = 'trashed', trashed_at = ?, trashed_by = ? where key = ? and state = 'live'";
    static final String RESTORE = "update objects set state = 'live', trashed_at = null, trashed_by = null where key = ? and state = 'trashed'";
    static final String TRASHED = """
            select key, size, trashed_at, trashed_by from objects
             where state = 'trashed' and key > ? order by key limit ?
            """;
    static final String DELETE_ONE = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ? where key = ? and state = 'trashed' returning key
            """;
    static final String DELETE_ALL = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ? where state = 'trashed' returning key
            """;
    static final String DELETE_TRASHED_BEFORE = """
            update objects set state = 'deleting', deleted_at = ?, deleted_by = ?
             where state = 'trashed' and trashed_at <= ? returning key
            """;
    static final String TRASHED_BEFORE = "select key, coalesce(size, 0) from objects where state = 'trashed' and trashed_at <= ? order by key";
    static final String UNDELETE = """
            update objects set state = 'live', trashed_at = null, trashed_by = null, deleted_at = null, deleted_by = null, purge_after = null
             where key = ? and state in ('deleting', 'deleted')
            """;
    static final String DELETING = "select key, deleted_at from objects where state = 'deleting' order by deleted_at limit ?";
    static final String DELETING_KEYS = "select key from objects where state = 'deleting' order by key";
    static final String RELEASED = "update objects set state = 'deleted', purge_after = ? where key = ? and state = 'deleting'";
    static final String DUE = """
            select key, coalesce(size, 0) from objects where state = 'deleted' and purge_after <= ? order by purge_after, key limit ?
            """;
    static final String TOMBSTONE = """
            insert into tombstones (key, size, sha256, created_at, trashed_at, trashed_by, deleted_at, deleted_by, purged_at, purged_by)
            select key, size, sha256, created_at, trashed_at, trashed_by, deleted_at, deleted_by, ?, ?
              from objects where key = ? and state = 'deleted'
            """;
    static final String FORGET = "delete from objects where key = ? and state = 'deleted'";
    static final String NEXT_PURGE = "select min(purge_after) from objects where state = 'deleted'";
    /** For ending trash periods and releasing holds: objects permanently deleted since, or waiting for their holds to be released. */
    static final String DELETED_SINCE = """
            select count(*), coalesce(sum(size), 0)
              from (select size from objects where state = 'deleting'
                    union all select size from objects where state = 'deleted' and deleted_at > ?) d
            """;
    static final String PURGED_SINCE = "select count(*), coalesce(sum(size), 0) from tombstones where purged_at > ?";

    private final DataSource db;

    LifecycleLedger(DataSource db) {
        this.db = db;
    }

    /** The object's state, its row locked until the transaction ends. */
    static ObjectState lockState(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(STATE)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new LifecycleException(LifecycleException.Reason.NO_SUCH_OBJECT, "no object '" + key + "'");
                return ObjectState.of(rs.getString(1));
            }
        }
    }

    static void trash(Connection c, String key, Instant at, String actor) throws SQLException {
        Sql.update(c, TRASH, Timestamp.from(at), actor, key);
    }

    static void restore(Connection c, String key) throws SQLException {
        Sql.update(c, RESTORE, key);
    }

    /** Permanently deletes one trashed object, or every trashed object ({@code key} null); returns their keys. */
    static List<String> deleteTrashed(Connection c, String key, Instant at, String actor) throws SQLException {
        return key == null ? Sql.strings(c, DELETE_ALL, Timestamp.from(at), actor) : Sql.strings(c, DELETE_ONE, Timestamp.from(at), actor, key);
    }

    /** Permanently deletes the objects trashed at or before {@code cutoff}; returns their keys. */
    static List<String> deleteTrashedBefore(Connection c, Instant cutoff, Instant at, String actor) throws SQLException {
        return Sql.strings(c, DELETE_TRASHED_BEFORE, Timestamp.from(at), actor, Timestamp.from(cutoff));
    }

    static void undelete(Connection c, String key) throws SQLException {
        Sql.update(c, UNDELETE, key);
    }

    /** Every hold released: the object may be purged after {@code purgeAfter}. */
    static void released(Connection c, String key, Instant purgeAfter) throws SQLException {
        Sql.update(c, RELEASED, Timestamp.from(purgeAfter), key);
    }

    /** Purged from every store: the row becomes a tombstone. */
    static void forget(Connection c, String key, Instant at, String actor) throws SQLException {
        Sql.update(c, TOMBSTONE, Timestamp.from(at), actor, key);
        Sql.update(c, FORGET, key);
    }

    static LedgerCounts.Amount deletedSince(Connection c, Instant since) throws SQLException {
        return amount(c, DELETED_SINCE, Timestamp.from(since));
    }

    static LedgerCounts.Amount purgedSince(Connection c, Instant since) throws SQLException {
        return amount(c, PURGED_SINCE, Timestamp.from(since));
    }

    /** Every object still in the ledger (its counts), plus those purged since: what a day's deletions are measured against. */
    static LedgerCounts.Amount heldOrPurgedSince(Connection c, Instant since) throws SQLException {
        return LedgerCounts.read(c).allObjects().plus(purgedSince(c, since));
    }

    List<Trashed> trashed(String after, int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(TRASHED)) {
            ps.setString(1, after == null ? "" : after);
            ps.setInt(2, limit);
            List<Trashed> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long size = rs.getLong(2);
                    Long sizeOrNull = rs.wasNull() ? null : size;
                    out.add(new Trashed(rs.getString(1), sizeOrNull, rs.getTimestamp(3).toInstant(), rs.getString(4)));
                }
            }
            return out;
        }
    }

    /** Objects trashed at or before {@code cutoff}, with their sizes, in key order. */
    Map<String, Long> trashedBefore(Instant cutoff) throws SQLException {
        return sizes(TRASHED_BEFORE, Timestamp.from(cutoff));
    }

    /** Up to {@code limit} objects whose holds are still to be released, oldest deletion first. */
    List<Deleting> deleting(int limit) throws SQLException {
        List<Deleting> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(DELETING)) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Deleting(rs.getString(1), rs.getTimestamp(2).toInstant()));
            }
        }
        return out;
    }

    LedgerCounts.Amount deletingAmount() throws SQLException {
        try (Connection c = db.getConnection()) {
            return LedgerCounts.read(c).objectsIn(ObjectState.DELETING.toString());
        }
    }

    List<String> deletingKeys() throws SQLException {
        try (Connection c = db.getConnection()) {
            return Sql.strings(c, DELETING_KEYS);
        }
    }

    /** Up to {@code limit} objects whose purge time has come by {@code now}, with their sizes, soonest first. */
    Map<String, Long> purgeDue(Instant now, int limit) throws SQLException {
        return sizes(DUE, Timestamp.from(now), limit);
    }

    /** Objects per state (from the ledger's counts). */
    Map<String, Long> counts() throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = db.getConnection()) {
            LedgerCounts.read(c).objects().forEach((state, a) -> out.put(state, a.count()));
        }
        return out;
    }

    /** When the next purge is due, or null when nothing waits for one. */
    Instant nextPurge() throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(NEXT_PURGE); ResultSet rs = ps.executeQuery()) {
            return rs.next() && rs.getTimestamp(1) != null ? rs.getTimestamp(1).toInstant() : null;
        }
    }

    private static LedgerCounts.Amount amount(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = Sql.prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new LedgerCounts.Amount(rs.getLong(1), rs.getLong(2));
        }
    }

    /** First column (a key or a state) to second (a size or a count), in the query's order. */
    private Map<String, Long> sizes(String sql, Object... params) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = Sql.prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
        }
        return out;
    }
}
