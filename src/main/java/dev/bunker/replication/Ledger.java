package dev.bunker.replication;

import dev.bunker.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** The ledger: which objects exist (size, SHA-256) and the state of each copy per store. All its SQL is here. */
public final class Ledger {
    /** One object as recorded; size and sha256 are null until known. */
    public record ObjectRow(String key, Long size, String sha256, Instant createdAt, ObjectState state) {
        /** Live or in the trash: its copies must still be kept and made. */
        public boolean kept() { return state.kept(); }
    }

    /** One copy of an object on one store. */
    public record CopyRow(String store, CopyState state, Instant verifiedAt, Instant retainUntil, boolean legalHold,
                          String storeChecksum, String lastError, String versionId) {}

    static final String FIND = "select key, size, sha256, created_at, state from objects where key = ?";
    static final String INSERT = """
            insert into objects (key, size, sha256) values (?, ?, ?) on conflict (key) do nothing
            """;
    static final String LEARN = "update objects set size = coalesce(size, ?), sha256 = coalesce(sha256, ?) where key = ?";
    static final String UPSERT_COPY = """
            insert into copies (key, store, state, store_checksum, verified_at, retain_until, legal_hold, last_error, version_id, updated_at, size)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), (select o.size from objects o where o.key = ?))
            on conflict (key, store) do update set
                state = excluded.state,
                size = coalesce(excluded.size, copies.size),
                store_checksum = case when excluded.state = 'verified' then excluded.store_checksum else copies.store_checksum end,
                version_id = case when excluded.state = 'verified' then excluded.version_id else copies.version_id end,
                verified_at = coalesce(excluded.verified_at, copies.verified_at),
                retain_until = coalesce(excluded.retain_until, copies.retain_until),
                legal_hold = excluded.legal_hold,
                last_error = excluded.last_error,
                updated_at = now()
            """;
    static final String PENDING_UNLESS_VERIFIED = """
            insert into copies (key, store, state, size) values (?, ?, 'pending', (select o.size from objects o where o.key = ?))
            on conflict (key, store) do update set state = 'pending', updated_at = now()
             where copies.state <> 'verified'
            """;
    static final String MARK = "update copies set state = ?, last_error = ?, updated_at = now() where key = ? and store = ?";
    /** A failed attempt never downgrades a copy someone else has verified meanwhile. */
    static final String MARK_UNLESS_VERIFIED = """
            insert into copies (key, store, state, last_error, size) values (?, ?, ?, ?, (select o.size from objects o where o.key = ?))
            on conflict (key, store) do update set state = excluded.state, last_error = excluded.last_error, updated_at = now()
             where copies.state <> 'verified'
            """;
    static final String COPIES = """
            select store, state, verified_at, retain_until, legal_hold, store_checksum, last_error, version_id
              from copies where key = ? order by store
            """;

    /** Kept objects (live or trashed) with no verified copy on any store but the given ones. */
    static final String KEPT_WITHOUT_OUTSIDE = """
            select count(*) from objects o where o.state in ('live', 'trashed')
               and not exists (select 1 from copies c where c.key = o.key and c.state = 'verified' and c.store <> all(?))
            """;
    /** Kept objects with no verified copy on any of the given stores. */
    static final String KEPT_WITHOUT_ON = """
            select count(*) from objects o where o.state in ('live', 'trashed')
               and not exists (select 1 from copies c where c.key = o.key and c.state = 'verified' and c.store = any(?))
            """;

    /** Reconcile: objects in the primary's listing (temp table {@code listing}) that the ledger lacks. */
    static final String NEW_OBJECTS = """
            insert into objects (key, size)
            select l.key, l.size from listing l
             where not exists (select 1 from objects o where o.key = l.key)
               and l.key not like '.bunker/%' -- Bunker's own data (backups) in a shared store is never an app object
               -- purged after the listing was taken: the listing may still show it, the store no longer has it
               and not exists (select 1 from tombstones t where t.key = l.key and t.purged_at >= ?)
            returning key
            """;
    /** Reconcile: verified copies of kept objects that the store's listing no longer has. */
    static final String GONE_COPIES = """
            update copies c set state = 'missing', last_error = 'not found in the store by reconcile', updated_at = now()
             where c.store = ? and c.state = 'verified' and not exists (select 1 from listing l where l.key = c.key)
               and (c.verified_at is null or c.verified_at <= ?) -- verified after the listing began: it may not show it
               and exists (select 1 from objects o where o.key = c.key and o.state in ('live', 'trashed'))
            returning c.key
            """;
    /** Reconcile: copies to make on a store of objects it just recorded, which that store's listing lacks (pending, never tried). */
    static final String UNLISTED_PENDING = """
            insert into copies (key, store, state, size)
            select k, ?, 'pending', (select o.size from objects o where o.key = k) from unnest(?::text[]) k
             where not exists (select 1 from listing l where l.key = k)
            on conflict (key, store) do nothing
            """;
    static final String VERIFIED_BEFORE = "select (exists (select 1 from copies where store = ? and state = 'verified' and verified_at <= ?))::int";
    static final String SAMPLE_LIVE = "select key, size, sha256 from objects where state = 'live' and sha256 is not null order by random() limit ?";
    /** Random pages of the table instead of a sort of all of it: about {@link #OVERSAMPLE} times the rows wanted. */
    static final String SAMPLE_LIVE_PAGES = """
            select key, size, sha256 from objects tablesample system (?::real)
             where state = 'live' and sha256 is not null order by random() limit ?
            """;
    static final String ESTIMATED_OBJECTS = "select greatest(reltuples, 0)::bigint from pg_class where oid = 'objects'::regclass";
    /** Below this many objects (the planner's estimate) sorting them all is cheap, and exact. */
    static final long SMALL_LEDGER = 50_000;
    static final int OVERSAMPLE = 20;
    static final String LATEST_RETAIN = "select max(retain_until) from copies where key = ?";
    /** One batch of V18's fill: the next copies in key order get their objects' sizes (those recorded since have theirs). */
    static final String FILL_SIZES = """
            with cursor as (select after_key, after_store from copy_size_fill where not done for update),
            batch as (select c.key, c.store from copies c -- the cursor as scalars: an index bound, not a filter from the start
                       where exists (select 1 from cursor) and (c.key, c.store) > ((select after_key from cursor), (select after_store from cursor))
                       order by c.key, c.store limit ?),
            filled as (update copies c set size = (select o.size from objects o where o.key = c.key)
                        from batch b where c.key = b.key and c.store = b.store and c.size is null),
            last as (select key, store from batch order by key desc, store desc limit 1)
            update copy_size_fill f set after_key = coalesce((select key from last), f.after_key),
                   after_store = coalesce((select store from last), f.after_store),
                   done = (select count(*) from batch) < ? -- (a WITH that writes runs once, referenced or not)
             where not f.done
            """;
    static final String HOLD_RELEASED = "update copies set retain_until = ?, legal_hold = false, updated_at = now() where key = ? and store = ?";

    private final DataSource db;

    public Ledger(DataSource db) {
        this.db = db;
    }

    public Optional<ObjectRow> find(String key) throws SQLException {
        try (Connection c = db.getConnection()) {
            return find(c, key);
        }
    }

    public static Optional<ObjectRow> find(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FIND)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                long size = rs.getLong(2);
                Long sizeOrNull = rs.wasNull() ? null : size;
                return Optional.of(new ObjectRow(rs.getString(1), sizeOrNull, rs.getString(3), rs.getTimestamp(4).toInstant(), ObjectState.of(rs.getString(5))));
            }
        }
    }

    /** Records a new object; false if the key was already recorded (nothing changed). */
    public static boolean insert(Connection c, String key, Long size, String sha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setString(1, key);
            if (size == null) ps.setNull(2, java.sql.Types.BIGINT);
            else ps.setLong(2, size);
            ps.setString(3, sha256);
            return ps.executeUpdate() == 1;
        }
    }

    /** Fills in size and SHA-256 learned from the primary (never overwrites what was recorded). */
    /** Size and SHA-256 read from a source for an object recorded without them, to record with {@link #learnAll}. */
    record Learned(String key, long size, String sha256) {}

    /** Records what was learned of many objects in one round trip (a JDBC batch). */
    static void learnAll(Connection c, List<Learned> learned) throws SQLException {
        if (learned.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(LEARN)) {
            for (Learned l : learned) {
                ps.setLong(1, l.size());
                ps.setString(2, l.sha256());
                ps.setString(3, l.key());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Records a verified copy ({@code versionId}: the store's version holding the verified bytes, null for the current one). */
    public static void copyVerified(Connection c, String key, String store, String storeChecksum, String versionId, Instant retainUntil,
                                    boolean hold, Instant now) throws SQLException {
        upsertCopy(c, key, store, CopyState.VERIFIED, storeChecksum, versionId, now, retainUntil, hold, null);
    }

    /** Marks copies to be made as pending (a verified copy stays verified until someone finds it gone). */
    public static void copiesPending(Connection c, String key, List<String> stores) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PENDING_UNLESS_VERIFIED)) {
            for (String s : stores) {
                ps.setString(1, key);
                ps.setString(2, s);
                ps.setString(3, key);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Sets a copy's state (missing, corrupt, failed, pending) with the reason. */
    public void mark(String key, String store, CopyState state, String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            mark(c, key, store, state, error);
        }
    }

    static void mark(Connection c, String key, String store, CopyState state, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(MARK)) {
            ps.setString(1, state.toString());
            ps.setString(2, error);
            ps.setString(3, key);
            ps.setString(4, store);
            if (ps.executeUpdate() == 0) upsertCopy(c, key, store, state, null, null, null, null, false, error);
        }
    }

    /** Records why a copy could not be made (pending or failed), unless the copy is verified by now. */
    static void markUnlessVerified(Connection c, String key, String store, CopyState state, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(MARK_UNLESS_VERIFIED)) {
            ps.setString(1, key);
            ps.setString(2, store);
            ps.setString(3, state.toString());
            ps.setString(4, error);
            ps.setString(5, key);
            ps.executeUpdate();
        }
    }

    /** A verified copy to record with {@link #copiesVerified}. */
    record VerifiedCopy(String key, String store, String storeChecksum, String versionId, Instant retainUntil, boolean hold) {}

    /** Records many verified copies in one round trip (a JDBC batch), as {@link #copyVerified} would one by one. */
    static void copiesVerified(Connection c, List<VerifiedCopy> copies, Instant now) throws SQLException {
        if (copies.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT_COPY)) {
            for (VerifiedCopy v : copies) {
                bindCopy(ps, v.key(), v.store(), CopyState.VERIFIED, v.storeChecksum(), v.versionId(), now, v.retainUntil(), v.hold(), null);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void upsertCopy(Connection c, String key, String store, CopyState state, String checksum, String versionId,
                                   Instant verifiedAt, Instant retainUntil, boolean hold, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPSERT_COPY)) {
            bindCopy(ps, key, store, state, checksum, versionId, verifiedAt, retainUntil, hold, error);
            ps.executeUpdate();
        }
    }

    private static void bindCopy(PreparedStatement ps, String key, String store, CopyState state, String checksum, String versionId,
                                 Instant verifiedAt, Instant retainUntil, boolean hold, String error) throws SQLException {
        ps.setString(1, key);
        ps.setString(2, store);
        ps.setString(3, state.toString());
        ps.setString(4, checksum);
        ps.setTimestamp(5, verifiedAt == null ? null : Timestamp.from(verifiedAt));
        ps.setTimestamp(6, retainUntil == null ? null : Timestamp.from(retainUntil));
        ps.setBoolean(7, hold);
        ps.setString(8, error);
        ps.setString(9, versionId);
        ps.setString(10, key);
    }

    public List<CopyRow> copies(String key) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(COPIES)) {
            ps.setString(1, key);
            List<CopyRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new CopyRow(rs.getString(1), CopyState.of(rs.getString(2)), instant(rs.getTimestamp(3)), instant(rs.getTimestamp(4)),
                            rs.getBoolean(5), rs.getString(6), rs.getString(7), rs.getString(8)));
                }
            }
            return out;
        }
    }

    /** Records the objects of the listing in {@code c}'s temp table {@code listing} that the ledger lacks; returns their keys. */
    static List<String> recordListedUnknown(Connection c, Instant listedAsOf) throws SQLException {
        return Sql.strings(c, NEW_OBJECTS, Timestamp.from(listedAsOf));
    }

    /** Whether the ledger has a copy on {@code store} verified at or before {@code instant}. */
    static boolean hasVerifiedCopiesBefore(Connection c, String store, Instant instant) throws SQLException {
        return Sql.longValue(c, VERIFIED_BEFORE, store, Timestamp.from(instant)) > 0;
    }

    /** Marks missing the verified copies on {@code store} of kept objects its listing lacks; returns their keys. */
    static List<String> markListedGone(Connection c, String store, Instant listedAsOf) throws SQLException {
        return Sql.strings(c, GONE_COPIES, store, Timestamp.from(listedAsOf));
    }

    /**
     * Records as pending the copies on {@code store} of {@code keys} (objects reconcile just recorded) that the store's
     * listing lacks: known absent, so replication writes them without first looking for them.
     */
    static void copiesPendingUnlisted(Connection c, String store, List<String> keys) throws SQLException {
        if (keys.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UNLISTED_PENDING)) {
            ps.setString(1, store);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            ps.executeUpdate();
        }
    }

    /** A live object's key, size and SHA-256. */
    public record Sampled(String key, long size, String sha256) {}

    /**
     * Up to {@code n} live objects picked at random (for the replica drill). On a large ledger, from random pages
     * (TABLESAMPLE SYSTEM), so the cost follows {@code n}, not the ledger; if the pages held too few live objects
     * (a stale estimate), a second try samples four times as many pages.
     */
    public List<Sampled> sampleLive(int n) throws SQLException {
        try (Connection c = db.getConnection()) {
            long estimate = Sql.longValue(c, ESTIMATED_OBJECTS);
            if (estimate < SMALL_LEDGER) return sample(c, SAMPLE_LIVE, n);
            double percent = Math.min(100.0, 100.0 * Math.max(1_000L, (long) n * OVERSAMPLE) / estimate);
            List<Sampled> out = sample(c, SAMPLE_LIVE_PAGES, percent, n);
            if (out.size() < n && percent < 100) out = sample(c, SAMPLE_LIVE_PAGES, Math.min(100.0, percent * 4), n);
            return out;
        }
    }

    private static List<Sampled> sample(Connection c, String sql, Object... params) throws SQLException {
        List<Sampled> out = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(new Sampled(rs.getString(1), rs.getLong(2), rs.getString(3)));
        }
        return out;
    }

    /** Records that a copy's legal hold was released and its retention extended to {@code retainUntil}. */
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

    public static void holdReleased(Connection c, String key, String store, Instant retainUntil) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(HOLD_RELEASED)) {
            ps.setTimestamp(1, Timestamp.from(retainUntil));
            ps.setString(2, key);
            ps.setString(3, store);
            ps.executeUpdate();
        }
    }

    /** The latest retain-until of any of the object's copies, or null when none is retained. */
    public static Instant latestRetainUntil(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(LATEST_RETAIN)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getTimestamp(1) != null ? rs.getTimestamp(1).toInstant() : null;
            }
        }
    }

    /** How many kept objects would have no verified copy left if {@code stores} were lost. */
    public long keptWithoutVerifiedCopyOutside(List<String> stores) throws SQLException {
        return countByStores(KEPT_WITHOUT_OUTSIDE, stores);
    }

    /** How many kept objects have no verified copy on any of {@code stores} (e.g. the locked ones). */
    public long keptWithoutVerifiedCopyOn(List<String> stores) throws SQLException {
        return countByStores(KEPT_WITHOUT_ON, stores);
    }

    private long countByStores(String sql, List<String> stores) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("text", stores.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
