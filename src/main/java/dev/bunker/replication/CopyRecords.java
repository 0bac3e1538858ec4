package dev.bunker.replication;

import dev.bunker.db.Sql;
import dev.bunker.replication.Ledger.CopyRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The ledger's copies: all the SQL of {@code copy_rows}, of the copy columns of {@code objects} and of the
 * {@code copy_states} view (migration V23). A verified copy without a store version id or store checksum (every copy
 * on a local store) is a bit of its object's row ({@code verified_on}, with {@code retained_on} and {@code held_on});
 * every other copy is a row of {@code copy_rows}. A copy is one or the other, never both: every statement that moves a
 * copy between the two, or adds a row, first holds its object's row (writers lock the object, then the copy; several
 * objects in key order), so two writers of the same copy take turns.
 */
public final class CopyRecords {
    /** Folds a verified copy into its object's row; carries a retention the copy's row (if any) had. */
    static final String FOLD = """
            update objects o set
                verified_on = o.verified_on | x.b,
                retained_on = case when coalesce(?::timestamptz, c.retain_until) is null then o.retained_on else o.retained_on | x.b end,
                held_on = case when ? then o.held_on | x.b else o.held_on & ~x.b end,
                verified_at = greatest(o.verified_at, ?),
                retain_until = greatest(o.retain_until, ?, c.retain_until)
              from (select 1 << store_id(?) as b) x left join copy_rows c on c.key = ? and c.store = ?
             where o.key = ?
            """;
    static final String DROP_ROW = "delete from copy_rows where key = ? and store = ?";
    /** Holds the object's row and turns its folded copy on {@code store}, if any, back into a verified row. */
    static final String UNFOLD = "select unfold_copy(?, ?)";
    static final String UNFOLD_ALL = "select count(unfold_copy(k, s)) from unnest(?::text[], ?::text[]) u(k, s)"; // in the arrays' order
    static final String UPSERT = """
            insert into copy_rows (key, store, state, store_checksum, verified_at, retain_until, legal_hold, last_error, version_id, updated_at, size)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), (select o.size from objects o where o.key = ?))
            on conflict (key, store) do update set
                state = excluded.state,
                size = coalesce(excluded.size, copy_rows.size),
                store_checksum = case when excluded.state = 'verified' then excluded.store_checksum else copy_rows.store_checksum end,
                version_id = case when excluded.state = 'verified' then excluded.version_id else copy_rows.version_id end,
                verified_at = coalesce(excluded.verified_at, copy_rows.verified_at),
                retain_until = coalesce(excluded.retain_until, copy_rows.retain_until),
                legal_hold = excluded.legal_hold,
                last_error = excluded.last_error,
                updated_at = now()
            """;
    static final String PENDING_UNLESS_VERIFIED = """
            insert into copy_rows (key, store, state, size)
            select o.key, ?, 'pending', o.size from objects o where o.key = ? and o.verified_on & store_bit(?) = 0
            on conflict (key, store) do update set state = 'pending', updated_at = now()
             where copy_rows.state <> 'verified'
            """;
    static final String MARK = "update copy_rows set state = ?, last_error = ?, updated_at = now() where key = ? and store = ?";
    /** A failed attempt never downgrades a copy someone else has verified meanwhile. */
    static final String MARK_UNLESS_VERIFIED = """
            insert into copy_rows (key, store, state, last_error, size)
            select o.key, ?, ?, ?, o.size from objects o where o.key = ? and o.verified_on & store_bit(?) = 0
            on conflict (key, store) do update set state = excluded.state, last_error = excluded.last_error, updated_at = now()
             where copy_rows.state <> 'verified'
            """;
    /** Holds objects' rows, several in key order (as every writer holding more than one does). The lock an UPDATE of them takes. */
    static final String LOCK_OBJECTS = "select count(*) from (select 1 from objects where key = any(?) order by key for no key update) l";
    static final String COPIES = """
            select store, state, verified_at, retain_until, legal_hold, store_checksum, last_error, version_id
              from copy_states where key = ? order by store
            """;
    /** The bits of the named stores (those that never held a copy have none). */
    static final String MASK = "(select coalesce(bit_or(1 << id), 0) from stores where name = any(?))";
    /** Kept objects (live or trashed) with no verified copy on any store but the given ones. */
    static final String KEPT_WITHOUT_OUTSIDE = "select count(*) from objects o where o.state in ('live', 'trashed') and o.verified_on & ~" + MASK + " = 0"
            + " and not exists (select 1 from copy_rows c where c.key = o.key and c.state = 'verified' and c.store <> all(?))";
    /** Kept objects with no verified copy on any of the given stores. */
    static final String KEPT_WITHOUT_ON = "select count(*) from objects o where o.state in ('live', 'trashed') and o.verified_on & " + MASK + " = 0"
            + " and not exists (select 1 from copy_rows c where c.key = o.key and c.state = 'verified' and c.store = any(?))";
    /** Reconcile: folded copies on a store (bit ?) that its listing lacks, as GONE_ROWS picks rows; turned into rows first, in key order. */
    static final String UNFOLD_GONE = """
            select count(unfold_copy(g.key, ?)) from (
                select o.key from objects o
                 where o.verified_on & ? <> 0 and not exists (select 1 from listing l where l.key = o.key)
                   and (o.verified_at is null or o.verified_at <= ?) and o.state in ('live', 'trashed')
                 order by o.key) g
            """;
    /** Reconcile: the objects whose verified rows on a store GONE_ROWS may mark missing, held in key order before it does. */
    static final String LOCK_GONE = """
            select count(*) from (select o.key from objects o
             where o.key in (select c.key from copy_rows c where c.store = ? and c.state = 'verified'
                               and not exists (select 1 from listing l where l.key = c.key))
             order by o.key for no key update) l
            """;
    /** Reconcile: verified copies of kept objects that the store's listing no longer has. */
    static final String GONE_ROWS = """
            update copy_rows c set state = 'missing', last_error = 'not found in the store by reconcile', updated_at = now()
             where c.store = ? and c.state = 'verified' and not exists (select 1 from listing l where l.key = c.key)
               and (c.verified_at is null or c.verified_at <= ?) -- verified after the listing began: it may not show it
               and exists (select 1 from objects o where o.key = c.key and o.state in ('live', 'trashed'))
            returning c.key
            """;
    /** Reconcile: copies to make on a store of objects it just recorded, which that store's listing lacks (pending, never tried). */
    static final String UNLISTED_PENDING = """
            insert into copy_rows (key, store, state, size)
            select o.key, ?, 'pending', o.size from objects o
             where o.key = any(?) and o.verified_on & ? = 0 and not exists (select 1 from listing l where l.key = o.key)
            on conflict (key, store) do nothing
            """;
    static final String VERIFIED_BEFORE = """
            select (exists (select 1 from copy_rows where store = ? and state = 'verified' and verified_at <= ?)
                    -- a folded copy's time is its object's latest: any of them may be older than the report
                    or exists (select 1 from objects where verified_on & ? <> 0))::int
            """;
    static final String LATEST_RETAIN = """
            select greatest((select retain_until from objects where key = ? and retained_on <> 0),
                            (select max(retain_until) from copy_rows where key = ?))
            """;
    static final String HOLD_RELEASED_ROW = "update copy_rows set retain_until = ?, legal_hold = false, updated_at = now() where key = ? and store = ?";
    static final String HOLD_RELEASED_FOLDED = """
            update objects o set held_on = o.held_on & ~x.b, retained_on = o.retained_on | x.b, retain_until = greatest(o.retain_until, ?)
              from (select store_bit(?) as b) x where o.key = ? and o.verified_on & x.b <> 0
            """;

    /** One batch of V18's fill: the next copies in key order get their objects' sizes (those recorded since have theirs). */
    static final String FILL_SIZES = """
            with cursor as (select after_key, after_store from copy_size_fill where not done for update),
            batch as (select c.key, c.store from copy_rows c -- the cursor as scalars: an index bound, not a filter from the start
                       where exists (select 1 from cursor) and (c.key, c.store) > ((select after_key from cursor), (select after_store from cursor))
                       order by c.key, c.store limit ?),
            filled as (update copy_rows c set size = (select o.size from objects o where o.key = c.key)
                        from batch b where c.key = b.key and c.store = b.store and c.size is null),
            last as (select key, store from batch order by key desc, store desc limit 1)
            update copy_size_fill f set after_key = coalesce((select key from last), f.after_key),
                   after_store = coalesce((select store from last), f.after_store),
                   done = (select count(*) from batch) < ? -- (a WITH that writes runs once, referenced or not)
             where not f.done
            """;
    static final String FOLD_CURSOR = "select after_key, after_store from copy_fold where not done for update";
    static final String FOLD_NEXT = "select key, store from copy_rows where (key, store) > (?, ?) order by key, store limit ?";
    /** V23's fold of the rows recorded before it: the batch's verified rows with nothing particular become bits. */
    static final String FOLD_ROWS = """
            with f as (delete from copy_rows c using unnest(?::text[], ?::text[]) u(k, s)
                        where c.key = u.k and c.store = u.s and c.state = 'verified' and c.version_id is null and c.store_checksum is null
                       returning c.key, 1 << store_id(c.store) as b, c.verified_at, c.retain_until, c.legal_hold),
                 g as (select key, bit_or(b) as v, bit_or(case when retain_until is not null then b else 0 end) as r,
                              bit_or(case when legal_hold then b else 0 end) as h, max(verified_at) as at, max(retain_until) as until
                         from f group by key)
            update objects o set verified_on = o.verified_on | g.v, retained_on = o.retained_on | g.r, held_on = o.held_on | g.h,
                   verified_at = greatest(o.verified_at, g.at), retain_until = greatest(o.retain_until, g.until)
              from g where o.key = g.key
            """;
    static final String FOLD_MOVE = "update copy_fold set after_key = ?, after_store = ?, done = ?";

    private CopyRecords() {}

    /** Runs batches of V18's fill until it is done or {@code budgetMillis} have passed; true when done. */
    public static boolean fillCopySizes(Connection c, int batch, long budgetMillis) throws SQLException {
        long end = System.nanoTime() + budgetMillis * 1_000_000;
        try (PreparedStatement ps = c.prepareStatement(FILL_SIZES)) {
            ps.setInt(1, batch);
            ps.setInt(2, batch);
            while (ps.executeUpdate() == 1) {
                if (System.nanoTime() > end) return false;
            }
            return true; // the row says done (no update matched 'not done')
        }
    }

    /**
     * Runs batches of V23's fold (each its own transaction) until it is done or {@code budgetMillis} have passed; true
     * when done. A batch holds its objects' rows (in key order) for as long as it takes, a fraction of a second for
     * 10,000 rows, so replication waits at most that long on one of them.
     */
    public static boolean fold(Connection c, int batch, long budgetMillis) throws SQLException {
        long end = System.nanoTime() + budgetMillis * 1_000_000;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            while (true) {
                boolean done = foldBatch(c, batch);
                c.commit();
                if (done) return true;
                if (System.nanoTime() > end) return false;
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static boolean foldBatch(Connection c, int batch) throws SQLException {
        Sql.update(c, "set local lock_timeout = '500ms'"); // on a lock cycle the fold gives up first (deadlock_timeout is 1 s)
        String afterKey;
        String afterStore;
        try (PreparedStatement ps = c.prepareStatement(FOLD_CURSOR); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) return true;
            afterKey = rs.getString(1);
            afterStore = rs.getString(2);
        }
        List<String> keys = new ArrayList<>();
        List<String> stores = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, FOLD_NEXT, afterKey, afterStore, batch); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                keys.add(rs.getString(1));
                stores.add(rs.getString(2));
            }
        }
        boolean last = keys.size() < batch;
        if (!keys.isEmpty()) {
            lockObjects(c, keys);
            Sql.update(c, FOLD_ROWS, c.createArrayOf("text", keys.toArray()), c.createArrayOf("text", stores.toArray()));
            afterKey = keys.get(keys.size() - 1);
            afterStore = stores.get(stores.size() - 1);
        }
        Sql.update(c, FOLD_MOVE, afterKey, afterStore, last);
        return last;
    }

    /** A verified copy to record ({@code versionId}: the store's version holding the verified bytes, null for the current one). */
    record VerifiedCopy(String key, String store, String storeChecksum, String versionId, Instant retainUntil, boolean hold) {
        /** Nothing particular to this copy: its object's row says it all. */
        boolean folds() {
            return storeChecksum == null && versionId == null;
        }
    }

    /** Records one verified copy. */
    public static void copyVerified(Connection c, String key, String store, String storeChecksum, String versionId, Instant retainUntil,
                                    boolean hold, Instant now) throws SQLException {
        copiesVerified(c, List.of(new VerifiedCopy(key, store, storeChecksum, versionId, retainUntil, hold)), now);
    }

    /**
     * Records many verified copies in a few round trips: the folded ones set their objects' bits (holding the objects'
     * rows), then drop any row they had; the others are rows, after any bit of theirs became a row.
     */
    static void copiesVerified(Connection c, List<VerifiedCopy> copies, Instant now) throws SQLException {
        List<VerifiedCopy> folded = copies.stream().filter(VerifiedCopy::folds).toList();
        List<VerifiedCopy> rows = copies.stream().filter(v -> !v.folds()).toList();
        Timestamp at = Timestamp.from(now);
        // Every object first, in key order: FOLD then reads each copy's row as it is once no one else can change it.
        lockObjects(c, copies.stream().map(VerifiedCopy::key).toList());
        if (!folded.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(FOLD)) {
                for (VerifiedCopy v : folded) {
                    Timestamp until = v.retainUntil() == null ? null : Timestamp.from(v.retainUntil());
                    bind(ps, until, v.hold(), at, until, v.store(), v.key(), v.store(), v.key());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement(DROP_ROW)) {
                for (VerifiedCopy v : folded) {
                    bind(ps, v.key(), v.store());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (!rows.isEmpty()) {
            unfoldAll(c, rows.stream().map(v -> new String[] {v.key(), v.store()}).toList());
            try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                for (VerifiedCopy v : rows) {
                    bindRow(ps, v.key(), v.store(), CopyState.VERIFIED, v.storeChecksum(), v.versionId(), now, v.retainUntil(), v.hold(), null);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    /** Holds the objects' rows, in key order (a no-op for those this transaction holds already). */
    static void lockObjects(Connection c, java.util.Collection<String> keys) throws SQLException {
        if (!keys.isEmpty()) Sql.longValue(c, LOCK_OBJECTS, c.createArrayOf("text", keys.stream().distinct().toArray()));
    }

    /** Marks copies to be made as pending (a verified copy stays verified until someone finds it gone). */
    public static void copiesPending(Connection c, String key, List<String> stores) throws SQLException {
        lockObjects(c, List.of(key));
        try (PreparedStatement ps = c.prepareStatement(PENDING_UNLESS_VERIFIED)) {
            for (String s : stores) {
                bind(ps, s, key, s);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Sets a copy's state (missing, corrupt, failed, pending) with the reason; a folded copy becomes a row first. */
    static void mark(Connection c, String key, String store, CopyState state, String error) throws SQLException {
        Sql.longValue(c, UNFOLD, key, store);
        if (Sql.update(c, MARK, state.toString(), error, key, store) == 0) {
            try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                bindRow(ps, key, store, state, null, null, null, null, false, error);
                ps.executeUpdate();
            }
        }
    }

    /** Records why a copy could not be made (pending or failed), unless the copy is verified by now. */
    static void markUnlessVerified(Connection c, String key, String store, CopyState state, String error) throws SQLException {
        lockObjects(c, List.of(key));
        Sql.update(c, MARK_UNLESS_VERIFIED, store, state.toString(), error, key, store);
    }

    static List<CopyRow> copies(Connection c, String key) throws SQLException {
        List<CopyRow> out = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, COPIES, key); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new CopyRow(rs.getString(1), CopyState.of(rs.getString(2)), Sql.instant(rs, 3), Sql.instant(rs, 4),
                        rs.getBoolean(5), rs.getString(6), rs.getString(7), rs.getString(8)));
            }
        }
        return out;
    }

    /** Whether the ledger has a copy on {@code store} verified at or before {@code instant}. */
    static boolean hasVerifiedCopiesBefore(Connection c, String store, Instant instant) throws SQLException {
        return Sql.longValue(c, VERIFIED_BEFORE, store, Timestamp.from(instant), bit(c, store)) > 0;
    }

    /** Marks missing the verified copies on {@code store} of kept objects its listing (temp table {@code listing}) lacks; returns their keys. */
    static List<String> markListedGone(Connection c, String store, Instant listedAsOf) throws SQLException {
        Timestamp asOf = Timestamp.from(listedAsOf);
        Sql.longValue(c, UNFOLD_GONE, store, bit(c, store), asOf);
        Sql.longValue(c, LOCK_GONE, store);
        return Sql.strings(c, GONE_ROWS, store, asOf);
    }

    /**
     * Records as pending the copies on {@code store} of {@code keys} (objects reconcile just recorded) that the store's
     * listing lacks: known absent, so replication writes them without first looking for them.
     */
    static void copiesPendingUnlisted(Connection c, String store, List<String> keys) throws SQLException {
        if (keys.isEmpty()) return;
        lockObjects(c, keys);
        Sql.update(c, UNLISTED_PENDING, store, c.createArrayOf("text", keys.toArray()), bit(c, store));
    }

    /** Records that a copy's legal hold was released and its retention extended to {@code retainUntil}. */
    public static void holdReleased(Connection c, String key, String store, Instant retainUntil) throws SQLException {
        lockObjects(c, List.of(key));
        Timestamp until = Timestamp.from(retainUntil);
        if (Sql.update(c, HOLD_RELEASED_FOLDED, until, store, key) == 0) Sql.update(c, HOLD_RELEASED_ROW, until, key, store);
    }

    /** The latest retain-until of any of the object's copies, or null when none is retained. */
    public static Instant latestRetainUntil(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = Sql.prepare(c, LATEST_RETAIN, key, key); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Sql.instant(rs, 1) : null;
        }
    }

    /** How many kept objects would have no verified copy left if {@code stores} were lost. */
    static long keptWithoutVerifiedCopyOutside(Connection c, List<String> stores) throws SQLException {
        java.sql.Array names = c.createArrayOf("text", stores.toArray());
        return Sql.longValue(c, KEPT_WITHOUT_OUTSIDE, names, names);
    }

    /** How many kept objects have no verified copy on any of {@code stores}. */
    static long keptWithoutVerifiedCopyOn(Connection c, List<String> stores) throws SQLException {
        java.sql.Array names = c.createArrayOf("text", stores.toArray());
        return Sql.longValue(c, KEPT_WITHOUT_ON, names, names);
    }

    /** The store's bit in the objects' masks (0: no copy there was ever folded). */
    public static int bit(Connection c, String store) throws SQLException {
        return (int) Sql.longValue(c, "select store_bit(?)", store);
    }

    /** Turns the folded copies among {@code keyStores} ({key, store} pairs) into rows, holding their objects' rows, in the list's order. */
    private static void unfoldAll(Connection c, List<String[]> keyStores) throws SQLException {
        Sql.longValue(c, UNFOLD_ALL, c.createArrayOf("text", keyStores.stream().map(ks -> ks[0]).toArray()),
                c.createArrayOf("text", keyStores.stream().map(ks -> ks[1]).toArray()));
    }

    private static void bindRow(PreparedStatement ps, String key, String store, CopyState state, String checksum, String versionId,
                                Instant verifiedAt, Instant retainUntil, boolean hold, String error) throws SQLException {
        bind(ps, key, store, state.toString(), checksum, verifiedAt == null ? null : Timestamp.from(verifiedAt),
                retainUntil == null ? null : Timestamp.from(retainUntil), hold, error, versionId, key);
    }

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            if (params[i] == null) ps.setNull(i + 1, java.sql.Types.NULL);
            else ps.setObject(i + 1, params[i]);
        }
    }
}
