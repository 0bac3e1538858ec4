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

/** The ledger: which objects exist (size, SHA-256) and the state of each copy per store. The objects' SQL is here, the copies' in {@link CopyRecords}. */
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

    /** Sets a copy's state (missing, corrupt, failed, pending) with the reason. */
    public void mark(String key, String store, CopyState state, String error) throws SQLException {
        dev.bunker.db.Tx.execute(db, c -> CopyRecords.mark(c, key, store, state, error));
    }

    /** Every copy of the object, rows and folded ones alike, in store name order. */
    public List<CopyRow> copies(String key) throws SQLException {
        try (Connection c = db.getConnection()) {
            return CopyRecords.copies(c, key);
        }
    }

    /** Records the objects of the listing in {@code c}'s temp table {@code listing} that the ledger lacks; returns their keys. */
    static List<String> recordListedUnknown(Connection c, Instant listedAsOf) throws SQLException {
        return Sql.strings(c, NEW_OBJECTS, Timestamp.from(listedAsOf));
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

    /** How many kept objects would have no verified copy left if {@code stores} were lost. */
    public long keptWithoutVerifiedCopyOutside(List<String> stores) throws SQLException {
        try (Connection c = db.getConnection()) {
            return CopyRecords.keptWithoutVerifiedCopyOutside(c, stores);
        }
    }

    /** How many kept objects have no verified copy on any of {@code stores} (e.g. the locked ones). */
    public long keptWithoutVerifiedCopyOn(List<String> stores) throws SQLException {
        try (Connection c = db.getConnection()) {
            return CopyRecords.keptWithoutVerifiedCopyOn(c, stores);
        }
    }
}
