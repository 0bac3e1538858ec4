package dev.bunker.lifecycle;

import dev.bunker.config.BunkerConfig.LifecycleConfig;
import dev.bunker.replication.LedgerCounts;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mass-deletion brake, applied at every step that brings objects closer to destruction: the end of
 * their trash period, the release of their legal holds, and the purge. A step that would take more than
 * {@code lifecycle.brake} of all objects or bytes within a day stops, and so does every later step, until
 * an operator reviews and confirms ({@code bunker purge --dry-run}, then {@code --confirm CODE}). One
 * tripped state for the whole lifecycle; all SQL of {@code purge_brake} is here.
 */
public final class DeletionBrake {
    private static final Logger LOG = LoggerFactory.getLogger(DeletionBrake.class);

    /** A step of the lifecycle the brake guards. */
    public enum Step {
        EXPIRE("end the trash period of"), RELEASE("release the legal holds of"), PURGE("purge");

        final String verb;

        Step(String verb) {
            this.verb = verb;
        }
    }

    static final String STATE = "select tripped_at, reason from purge_brake where id = 1";
    static final String TRIP = "update purge_brake set tripped_at = ?, reason = ? where id = 1 and tripped_at is null";
    static final String CLEAR = "update purge_brake set tripped_at = null, reason = null where id = 1";

    private final DataSource db;
    private final LifecycleConfig config;

    public DeletionBrake(DataSource db, LifecycleConfig config) {
        this.db = db;
        this.config = config;
    }

    /**
     * Whether {@code step} may go on for {@code count} objects of {@code bytes} (not yet counted as deleted): null
     * if so, else why not. Trips the brake when it would be exceeded; {@code confirmed} (an operator reviewed this
     * very set) lets it through and clears it.
     */
    String check(Connection c, Step step, Instant now, long count, long bytes, boolean confirmed, String actor) throws SQLException {
        String tripped = trippedReason(c);
        // Nothing to do is never too much; RELEASE passes 0 because the objects waiting for it are already counted as deleted.
        if (count == 0 && step != Step.RELEASE && tripped == null) return null;
        String reason = tripped != null ? tripped : wouldExceed(c, step, now, count, bytes);
        if (reason == null) return null;
        if (confirmed) {
            if (tripped != null) clear(c, now, actor, reason);
            return null;
        }
        if (tripped == null) trip(c, now, actor, reason);
        return reason;
    }

    private String wouldExceed(Connection c, Step step, Instant now, long count, long bytes) throws SQLException {
        Instant dayAgo = now.minus(Duration.ofDays(1));
        LedgerCounts.Amount recent = step == Step.PURGE ? LifecycleLedger.purgedSince(c, dayAgo) : LifecycleLedger.deletedSince(c, dayAgo);
        LedgerCounts.Amount total = LifecycleLedger.heldOrPurgedSince(c, dayAgo);
        long recentCount = recent.count();
        long recentBytes = recent.bytes();
        long totalCount = total.count();
        long totalBytes = total.bytes();
        double objectShare = (double) (recentCount + count) / Math.max(1, totalCount);
        double byteShare = (double) (recentBytes + bytes) / Math.max(1, totalBytes);
        if (objectShare <= config.brake() && byteShare <= config.brake()) return null;
        return String.format("a request to %s %d objects (%d bytes), with those deleted in the last day, would take %.1f%% of objects "
                + "and %.1f%% of bytes within a day, above the brake of %.1f%%", step.verb, count, bytes, objectShare * 100, byteShare * 100,
                config.brake() * 100);
    }

    /** The reason the brake is tripped, or null. */
    public String trippedReason() throws SQLException {
        try (Connection c = db.getConnection()) {
            return trippedReason(c);
        }
    }

    private static String trippedReason(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(STATE); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getTimestamp(1) == null ? null : rs.getString(2);
        }
    }

    private static void trip(Connection c, Instant now, String actor, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(TRIP)) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, reason);
            ps.executeUpdate();
        }
        Audit.record(c, now, actor, "deletion brake tripped", null, reason + "; review with `bunker purge --dry-run`, then `bunker purge --confirm CODE`");
        LOG.warn("deletion stopped by the mass-deletion brake: {}; review with `bunker purge --dry-run`, then `bunker purge --confirm CODE`", reason);
    }

    private static void clear(Connection c, Instant now, String actor, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CLEAR)) {
            ps.executeUpdate();
        }
        Audit.record(c, now, actor, "deletion confirmed", null, reason);
    }
}
