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
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * How objects enter Bunker: uploaded through it (the bytes go to the primary store first, and only
 * once they are durable does one transaction record the object and enqueue its replication), or
 * already uploaded to the primary by the app and announced afterwards.
 */
public final class Ingest {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    /** Reserves a key for one upload at a time across every process (a lease, see V6__ingest_reservations.sql). */
    static final String RESERVE = """
            insert into ingest_reservations (key, owner, expires_at) values (?, ?, now() + interval '60 seconds')
            on conflict (key) do update set owner = excluded.owner, expires_at = excluded.expires_at
             where ingest_reservations.expires_at < now()
            returning owner
            """;
    static final String RENEW = "update ingest_reservations set expires_at = now() + interval '60 seconds' where key = ? and owner = ?";
    static final String RELEASE = "delete from ingest_reservations where key = ? and owner = ?";
    private static final java.util.concurrent.ScheduledExecutorService RENEWER = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ingest-lease");
        t.setDaemon(true);
        return t;
    });

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
        try (Reservation r = reserve(key)) {
            Optional<Ledger.ObjectRow> known = ledgerRow(key);
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
            record(key, written.size(), written.sha256(), written.storeChecksum());
            return new Stored(key, written.size(), written.sha256(), true);
        }
    }

    /**
     * Records an object the app already put in the primary store (e.g. through a presigned URL):
     * reads it once to learn its SHA-256, then records and enqueues it.
     */
    public Stored announce(String key, String sha256Header) throws SQLException, IOException {
        ObjectKeys.validate(primary.name(), key);
        try (Reservation r = reserve(key)) {
            ObjectInfo info = primary.stat(key).orElseThrow(() -> new ObjectNotFoundException(primary.name(), key,
                    "object '" + key + "' is not in the primary store '" + primary.name() + "'; upload it there first"));
            VerifyingInputStream in;
            try (InputStream raw = primary.get(key)) {
                in = new VerifyingInputStream(raw, sha256Header, null);
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (VerifyingInputStream.ChecksumMismatchException e) {
                throw new Rejected(400, e.getMessage() + " (as stored in the primary); nothing was recorded");
            }
            Optional<Ledger.ObjectRow> known = ledgerRow(key);
            if (known.isPresent()) {
                if (!known.get().state().equals("live")) throw new Rejected(409, "object '" + key + "' is being deleted (" + known.get().state() + ")");
                if (known.get().sha256() != null && !known.get().sha256().equals(in.sha256())) {
                    throw new Rejected(409, "object '" + key + "' is already recorded with SHA-256 " + known.get().sha256());
                }
                return new Stored(key, in.count(), in.sha256(), false);
            }
            record(key, info.size(), in.sha256(), info.storeChecksum());
            return new Stored(key, in.count(), in.sha256(), true);
        }
    }

    private Optional<Ledger.ObjectRow> ledgerRow(String key) throws SQLException {
        try (Connection c = db.getConnection()) {
            return Ledger.find(c, key);
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
    private void record(String key, long size, String sha256, String storeChecksum) throws SQLException {
        try (Connection c = db.getConnection()) {
            record(c, key, size, sha256, storeChecksum);
        }
        onEnqueued.run();
    }

    private void record(Connection c, String key, long size, String sha256, String storeChecksum) throws SQLException {
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
        }
    }

    /** The key reserved for this upload, renewed every 20 s until closed; 409 if another upload holds it. */
    private Reservation reserve(String key) throws SQLException {
        UUID owner = UUID.randomUUID();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RESERVE)) {
            ps.setString(1, key);
            ps.setObject(2, owner);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new Rejected(409, "another upload of '" + key + "' is in progress; retry when it has finished");
            }
        }
        return new Reservation(key, owner);
    }

    /** A held key reservation; closing releases it. */
    private final class Reservation implements AutoCloseable {
        private final String key;
        private final UUID owner;
        private final java.util.concurrent.ScheduledFuture<?> renewal;

        Reservation(String key, UUID owner) {
            this.key = key;
            this.owner = owner;
            this.renewal = RENEWER.scheduleWithFixedDelay(() -> run(RENEW), 20, 20, java.util.concurrent.TimeUnit.SECONDS);
        }

        private void run(String sql) {
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, key);
                ps.setObject(2, owner);
                ps.executeUpdate();
            } catch (SQLException e) {
                // a missed renewal only shortens the lease; the upload goes on
            }
        }

        @Override
        public void close() {
            renewal.cancel(false);
            run(RELEASE);
        }
    }

    private static VerifyingInputStream.ChecksumMismatchException causeOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof VerifyingInputStream.ChecksumMismatchException m) return m;
        }
        return null;
    }

}
