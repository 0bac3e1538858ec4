package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectKeys;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * How objects enter Bunker: uploaded through it (the bytes go to the primary store first, and only
 * once they are durable does one transaction record the object and enqueue its replication), or
 * already uploaded to the primary by the app and announced afterwards.
 */
public final class Ingest {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    /** Serializes uploads of one key across every process sharing the database. */
    private static final String TRY_LOCK = "select pg_try_advisory_lock(hashtext('bunker.ingest'), hashtext(?))";
    private static final String UNLOCK = "select pg_advisory_unlock(hashtext('bunker.ingest'), hashtext(?))";

    /** Created (201) or already there with the same bytes (200). */
    public record Stored(String key, long size, String sha256, boolean created) {}

    /** The request cannot be done as asked (HTTP 400 or 409); nothing was recorded. */
    public static final class Rejected extends RuntimeException {
        private final int status;

        Rejected(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() { return status; }
    }

    private final BunkerConfig config;
    private final DataSource db;
    private final Store primary;
    private final Runnable onEnqueued;

    public Ingest(BunkerConfig config, DataSource db, Store primary, Runnable onEnqueued) {
        this.config = config;
        this.db = db;
        this.primary = primary;
        this.onEnqueued = onEnqueued;
    }

    /** Streams {@code body} into the primary store and records it. {@code size} -1 when unknown. */
    public Stored put(String key, InputStream body, long size, String sha256Header, String md5Header) throws SQLException, IOException {
        ObjectKeys.validate(primary.name(), key);
        if (sha256Header != null && !HEX64.matcher(sha256Header).matches()) {
            throw new Rejected(400, "x-bunker-sha256 must be 64 hex digits, got \"" + sha256Header + "\"");
        }
        try (Connection c = db.getConnection()) {
            lock(c, key);
            try {
                Optional<Ledger.ObjectRow> known = Ledger.find(c, key);
                VerifyingInputStream in = new VerifyingInputStream(body, sha256Header, md5Header);
                if (known.isPresent()) return sameOrConflict(known.get(), in);
                PutResult written;
                try {
                    written = primary.put(key, in, size < 0 ? PutOptions.unknownSize() : PutOptions.ofSize(size));
                } catch (RuntimeException e) {
                    VerifyingInputStream.ChecksumMismatchException mismatch = causeOf(e);
                    if (mismatch != null) throw new Rejected(400, mismatch.getMessage() + "; nothing was stored");
                    throw e;
                }
                record(c, key, written.size(), written.sha256(), written.storeChecksum());
                return new Stored(key, written.size(), written.sha256(), true);
            } finally {
                unlock(c, key);
            }
        }
    }

    /**
     * Records an object the app already put in the primary store (e.g. through a presigned URL):
     * reads it once to learn its SHA-256, then records and enqueues it.
     */
    public Stored announce(String key, String sha256Header) throws SQLException, IOException {
        ObjectKeys.validate(primary.name(), key);
        try (Connection c = db.getConnection()) {
            lock(c, key);
            try {
                ObjectInfo info = primary.stat(key).orElseThrow(() -> new ObjectNotFoundException(primary.name(), key,
                        "object '" + key + "' is not in the primary store '" + primary.name() + "'; upload it there first"));
                VerifyingInputStream in;
                try (InputStream raw = primary.get(key)) {
                    in = new VerifyingInputStream(raw, sha256Header, null);
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                } catch (VerifyingInputStream.ChecksumMismatchException e) {
                    throw new Rejected(400, e.getMessage() + " (as stored in the primary); nothing was recorded");
                }
                Optional<Ledger.ObjectRow> known = Ledger.find(c, key);
                if (known.isPresent()) {
                    if (!known.get().state().equals("live")) throw new Rejected(409, "object '" + key + "' is being deleted (" + known.get().state() + ")");
                    if (known.get().sha256() != null && !known.get().sha256().equals(in.sha256())) {
                        throw new Rejected(409, "object '" + key + "' is already recorded with SHA-256 " + known.get().sha256());
                    }
                    return new Stored(key, in.count(), in.sha256(), false);
                }
                record(c, key, info.size(), in.sha256(), info.storeChecksum());
                return new Stored(key, in.count(), in.sha256(), true);
            } finally {
                unlock(c, key);
            }
        }
    }

    private Stored sameOrConflict(Ledger.ObjectRow known, VerifyingInputStream in) throws IOException {
        if (!known.state().equals("live")) {
            throw new Rejected(409, "object '" + known.key() + "' is " + (known.state().equals("trashed")
                    ? "in the trash; restore it (POST /v1/objects/KEY/restore) or wait until it is purged to use the key again"
                    : "permanently deleted and waiting to be purged; its key can be used again after the purge"));
        }
        try {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (VerifyingInputStream.ChecksumMismatchException e) {
            throw new Rejected(400, e.getMessage() + "; nothing was stored");
        }
        if (known.sha256() != null && known.sha256().equals(in.sha256()) && (known.size() == null || known.size() == in.count())) {
            return new Stored(known.key(), in.count(), in.sha256(), false);
        }
        throw new Rejected(409, "object '" + known.key() + "' already exists with other content (SHA-256 " + known.sha256()
                + "); objects are immutable, store a new version under a new key");
    }

    /** One transaction: the object, its verified primary copy, pending copies and the replication job. */
    private void record(Connection c, String key, long size, String sha256, String storeChecksum) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Ledger.insert(c, key, size, sha256);
            Ledger.copyVerified(c, key, config.replication().primary(), storeChecksum, null, false);
            Ledger.copiesPending(c, key, config.replication().targetsFor(key));
            ReplicationJobs.enqueue(c, key, null);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        onEnqueued.run();
    }

    private static void lock(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(TRY_LOCK)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) throw new Rejected(409, "another upload of '" + key + "' is in progress; retry when it has finished");
            }
        }
    }

    private static void unlock(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UNLOCK)) {
            ps.setString(1, key);
            ps.executeQuery().close();
        }
    }

    private static VerifyingInputStream.ChecksumMismatchException causeOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof VerifyingInputStream.ChecksumMismatchException m) return m;
        }
        return null;
    }

}
