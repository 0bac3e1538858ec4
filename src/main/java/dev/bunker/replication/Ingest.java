package dev.bunker.replication;

import dev.bunker.db.Tx;
import dev.bunker.config.BunkerConfig;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectKeys;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Store;
import dev.bunker.store.VerifiedStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How objects enter Bunker: uploaded through it (the bytes go to the primary store first, and only
 * once they are durable does one transaction record the object and enqueue its replication), or
 * already uploaded to the primary by the app and announced afterwards. Keys are checked against the
 * key grammar first ({@link ObjectKeys}), so a refused key records nothing anywhere.
 */
public final class Ingest {
    private static final Logger LOG = LoggerFactory.getLogger(Ingest.class);
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    static final Duration RESERVATION_LEASE = Duration.ofSeconds(60);

    /** Created (201) or already there with the same bytes (200). */
    public record Stored(String key, long size, String sha256, boolean created) {}

    /** The upload or announce cannot be done as asked; nothing was recorded. */
    public static final class Rejected extends RuntimeException {
        /** Why: the request itself is wrong ({@code INVALID}), or it clashes with what is recorded or in progress ({@code CONFLICT}). */
        public enum Reason { INVALID, CONFLICT }

        private final Reason reason;

        Rejected(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        Rejected(Reason reason, String message, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }

        public Reason reason() { return reason; }
    }

    private final BunkerConfig config;
    private final DataSource db;
    private final Store primary;
    private final ObjectKeys.Limits limits;
    private final Clock clock;
    private final Duration reservationLease;
    private final Runnable onEnqueued;

    public Ingest(BunkerConfig config, DataSource db, Store primary, ObjectKeys.Limits limits, Clock clock, Runnable onEnqueued) {
        this(config, db, primary, limits, clock, RESERVATION_LEASE, onEnqueued);
    }

    /** With another reservation lease (tests make it short to provoke a stalled upload). */
    public Ingest(BunkerConfig config, DataSource db, Store primary, ObjectKeys.Limits limits, Clock clock, Duration reservationLease,
                  Runnable onEnqueued) {
        this.config = config;
        this.db = db;
        this.primary = primary;
        this.limits = limits;
        this.clock = clock;
        this.reservationLease = reservationLease;
        this.onEnqueued = onEnqueued;
    }

    /** Streams {@code body} into the primary store and records it. {@code size} -1 when unknown. */
    public Stored put(String key, InputStream body, long size, String sha256Header, String md5Header) throws SQLException, IOException {
        checkKey(key);
        if (sha256Header != null && !HEX64.matcher(sha256Header).matches()) {
            throw new Rejected(Rejected.Reason.INVALID, "x-bunker-sha256 must be 64 hex digits, got \"" + sha256Header + "\"");
        }
        try (IngestReservation r = IngestReservation.take(db, key, reservationLease)) {
            Optional<Ledger.ObjectRow> known = ledgerRow(key);
            VerifiedStream in = uploaded(body, sha256Header, md5Header, "the body");
            if (known.isPresent()) return sameOrConflict(known.get(), in);
            PutResult written;
            try {
                PutOptions options = (size < 0 ? PutOptions.unknownSize() : PutOptions.ofSize(size)).withPrecondition(r::confirm);
                written = primary.put(key, in, options);
            } catch (RuntimeException e) {
                VerifiedStream.MismatchException mismatch = causeOf(e);
                if (mismatch != null) throw new Rejected(Rejected.Reason.INVALID, mismatch.getMessage(), e);
                throw e;
            }
            return record(r, key, written.size(), written.sha256(), written.storeChecksum(), written.versionId());
        }
    }

    /**
     * Records an object the app already put in the primary store (e.g. through a presigned URL):
     * reads it once to learn its SHA-256, then records and enqueues it.
     */
    public Stored announce(String key, String sha256Header) throws SQLException, IOException {
        checkKey(key);
        try (IngestReservation r = IngestReservation.take(db, key, reservationLease)) {
            ObjectInfo info = primary.stat(key).orElseThrow(() -> new ObjectNotFoundException(primary.name(), key,
                    "object '" + key + "' is not in the primary store '" + primary.name() + "'; upload it there first"));
            VerifiedStream in;
            try (InputStream raw = primary.get(key)) {
                in = uploaded(raw, sha256Header, null, "the object in the primary");
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (VerifiedStream.MismatchException e) {
                throw new Rejected(Rejected.Reason.INVALID, e.getMessage());
            }
            Optional<Ledger.ObjectRow> known = ledgerRow(key);
            if (known.isPresent()) {
                refuseUnlessLive(known.get());
                if (known.get().sha256() != null && !known.get().sha256().equals(in.sha256())) {
                    throw new Rejected(Rejected.Reason.CONFLICT, "object '" + key + "' is already recorded with SHA-256 " + known.get().sha256());
                }
                return new Stored(key, in.count(), in.sha256(), false);
            }
            return record(r, key, info.size(), in.sha256(), info.storeChecksum(), info.versionId());
        }
    }

    /** An upload (or an announced object) checked against the checksums the client sent: x-bunker-sha256 (hex) and Content-MD5. */
    private static VerifiedStream uploaded(InputStream in, String sha256Header, String md5Header, String what) {
        return new VerifiedStream(in, -1, sha256Header, md5Header, what, " (x-bunker-sha256)", "nothing was stored", problem -> { });
    }

    private void checkKey(String key) {
        String problem = ObjectKeys.appKeyProblem(key, limits);
        if (problem != null) throw new Rejected(Rejected.Reason.INVALID, "invalid object key " + ObjectKeys.quote(key) + ": " + problem);
    }

    private Optional<Ledger.ObjectRow> ledgerRow(String key) throws SQLException {
        try (Connection c = db.getConnection()) {
            return Ledger.find(c, key);
        }
    }

    /** A key in the trash or waiting for its purge cannot take an upload or an announce. */
    private static void refuseUnlessLive(Ledger.ObjectRow known) {
        if (known.state() != ObjectState.LIVE) {
            throw new Rejected(Rejected.Reason.CONFLICT, "object '" + known.key() + "' is " + (known.state() == ObjectState.TRASHED
                    ? "in the trash; restore it (POST /v1/objects/KEY/restore) or wait until it is purged to use the key again"
                    : "permanently deleted and waiting to be purged; its key can be used again after the purge"));
        }
    }

    private Stored sameOrConflict(Ledger.ObjectRow known, VerifiedStream in) throws IOException {
        refuseUnlessLive(known);
        try {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (VerifiedStream.MismatchException e) {
            throw new Rejected(Rejected.Reason.INVALID, e.getMessage());
        }
        if (known.sha256() != null && known.sha256().equals(in.sha256()) && (known.size() == null || known.size() == in.count())) {
            return new Stored(known.key(), in.count(), in.sha256(), false);
        }
        throw new Rejected(Rejected.Reason.CONFLICT, "object '" + known.key() + "' already exists with other content (SHA-256 " + known.sha256()
                + "); objects are immutable, store a new version under a new key");
    }

    /**
     * One transaction: the reservation (still ours, or nothing is recorded), the object, its verified
     * primary copy, pending copies and the replication job. A row recorded meanwhile without a
     * reservation (the outbox function) wins: same bytes is a 200, other bytes a 409, and since ours
     * are what the primary holds now, its copy is marked corrupt so a verified replica repairs it.
     */
    private Stored record(IngestReservation r, String key, long size, String sha256, String storeChecksum, String versionId)
            throws SQLException {
        String primaryName = config.replication().primary();
        Ledger.ObjectRow other = Tx.run(db, c -> {
            if (!r.consume(c)) throw r.lostIt();
            if (Ledger.insert(c, key, size, sha256)) {
                CopyRecords.copyVerified(c, key, primaryName, storeChecksum, versionId, null, false, clock.instant());
                CopyRecords.copiesPending(c, key, config.replication().targetsFor(key));
                ReplicationJobs.enqueue(c, key, null, clock.instant());
                return null;
            }
            Ledger.ObjectRow recorded = Ledger.find(c, key).orElseThrow();
            if (recorded.sha256() != null && !recorded.sha256().equals(sha256)) {
                CopyRecords.mark(c, key, primaryName, CopyState.CORRUPT, "an upload through the API replaced the bytes the app recorded through "
                        + "the outbox; the recorded object is restored from a verified replica");
                ReplicationJobs.enqueue(c, key, List.of(primaryName), clock.instant());
            }
            return recorded;
        });
        onEnqueued.run();
        if (other == null) return new Stored(key, size, sha256, true);
        if (other.sha256() == null || other.sha256().equals(sha256)) return new Stored(key, size, sha256, false);
        LOG.warn("upload of {} raced an outbox record of the same key with other bytes; the primary copy is being repaired", key);
        throw new Rejected(Rejected.Reason.CONFLICT, "object '" + key + "' was recorded meanwhile with other content (SHA-256 " + other.sha256()
                + "); objects are immutable, store a new version under a new key");
    }

    private static VerifiedStream.MismatchException causeOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof VerifiedStream.MismatchException m) return m;
        }
        return null;
    }
}
