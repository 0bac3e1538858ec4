package dev.bunker.replication;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key reserved for one upload, across every process (a lease in {@code ingest_reservations}, see
 * V6). It is renewed while the upload runs; the upload confirms it still holds it right before its
 * bytes become visible in the primary, and consumes it in the transaction that records the object,
 * so an upload that stalled past its lease can neither overwrite a newer upload's bytes nor record
 * over them. All SQL of the table is here.
 */
final class IngestReservation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngestReservation.class);
    static final String RESERVE = """
            insert into ingest_reservations (key, owner, expires_at) values (?, ?, now() + ?::interval)
            on conflict (key) do update set owner = excluded.owner, expires_at = excluded.expires_at
             where ingest_reservations.expires_at < now()
            returning owner
            """;
    static final String RENEW = "update ingest_reservations set expires_at = now() + ?::interval where key = ? and owner = ?";
    static final String HELD = "select 1 from ingest_reservations where key = ? and owner = ?";
    static final String CONSUME = "delete from ingest_reservations where key = ? and owner = ?";
    private static final ScheduledExecutorService RENEWER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ingest-lease");
        t.setDaemon(true);
        return t;
    });

    private final DataSource db;
    private final String key;
    private final UUID owner = UUID.randomUUID();
    private final Duration lease;
    private volatile boolean lost;
    private ScheduledFuture<?> renewal;

    private IngestReservation(DataSource db, String key, Duration lease) {
        this.db = db;
        this.key = key;
        this.lease = lease;
    }

    /** Reserves {@code key} for {@code lease} (renewed every third of it); 409 if another upload holds it. */
    static IngestReservation take(DataSource db, String key, Duration lease) throws SQLException {
        IngestReservation r = new IngestReservation(db, key, lease);
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RESERVE)) {
            ps.setString(1, key);
            ps.setObject(2, r.owner);
            ps.setString(3, lease.toMillis() + " milliseconds");
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new Ingest.Rejected(Ingest.Rejected.Reason.CONFLICT, "another upload of '" + key + "' is in progress; retry when it has finished");
            }
        }
        long every = Math.max(100, lease.toMillis() / 3);
        r.renewal = RENEWER.scheduleWithFixedDelay(r::renew, every, every, TimeUnit.MILLISECONDS);
        return r;
    }

    private void renew() {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RENEW)) {
            ps.setString(1, lease.toMillis() + " milliseconds");
            ps.setString(2, key);
            ps.setObject(3, owner);
            if (ps.executeUpdate() == 0) {
                lost = true;
                renewal.cancel(false);
            }
        } catch (Exception e) {
            // Any failure (not only SQL) must not end the shared renewer: a missed renewal only shortens the lease,
            // and the checks before the rename and at the record say whether it still holds.
            LOG.debug("could not renew the upload reservation of {}: {}", key, e.toString());
        }
    }

    /** Throws 409 unless this upload still holds the key: run right before its bytes replace what the primary has. */
    void confirm() {
        if (lost) throw lostIt();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(HELD)) {
            ps.setString(1, key);
            ps.setObject(2, owner);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    lost = true;
                    throw lostIt();
                }
            }
        } catch (SQLException e) {
            throw new dev.bunker.db.DatabaseUnavailableException("unable to confirm the upload reservation of '" + key + "'", e);
        }
    }

    /** In the recording transaction: ends the reservation; false if another upload had taken it over (then record nothing). */
    boolean consume(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CONSUME)) {
            ps.setString(1, key);
            ps.setObject(2, owner);
            return ps.executeUpdate() == 1;
        }
    }

    Ingest.Rejected lostIt() {
        return new Ingest.Rejected(Ingest.Rejected.Reason.CONFLICT, "the upload of '" + key + "' stalled for longer than its " + lease.toSeconds()
                + " s reservation and another upload of the key took over; nothing was stored by this one, retry if it is still needed");
    }

    @Override
    public void close() {
        if (renewal != null) renewal.cancel(false);
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(CONSUME)) {
            ps.setString(1, key);
            ps.setObject(2, owner);
            ps.executeUpdate();
        } catch (SQLException e) {
            // the lease runs out on its own
        }
    }
}
