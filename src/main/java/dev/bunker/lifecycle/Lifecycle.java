package dev.bunker.lifecycle;

import dev.bunker.Bunker;
import dev.bunker.Periodic;
import io.micrometer.core.instrument.Gauge;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deletion lifecycle of one process: the trash, hold release, the cleanup job, the audit log,
 * and (in serve) the schedule that runs the transitions. Each scheduled run is safe to repeat and
 * to run in several processes at once: a PostgreSQL advisory lock lets one process at a time do it.
 */
public final class Lifecycle implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);
    static final String TRY_LOCK = "select pg_try_advisory_lock(hashtext('bunker.lifecycle'))";
    static final String UNLOCK = "select pg_advisory_unlock(hashtext('bunker.lifecycle'))";
    static final String COUNTS = "select state, count(*) from objects group by state";
    static final String NEXT_PURGE = "select min(purge_after) from objects where state = 'deleted'";

    private final DataSource db;
    private final Trash trash;
    private final ReleaseHolds releaseHolds;
    private final PurgeExpired purge;
    private final Audit audit;
    private ScheduledExecutorService schedule;
    private volatile Map<String, Long> lastCounts = Map.of();
    private volatile boolean brakeTripped;
    private volatile Instant nextPurge;

    public Lifecycle(Bunker bunker) {
        this.db = bunker.database().dataSource();
        this.trash = new Trash(db, bunker.config().lifecycle(), bunker.clock());
        this.releaseHolds = new ReleaseHolds(db, bunker.config(), bunker.stores(), bunker.clock());
        this.purge = new PurgeExpired(db, bunker.config(), bunker.stores(), bunker.clock());
        this.audit = new Audit(db);
        for (String state : new String[] {"live", "trashed", "deleting", "deleted"}) {
            Gauge.builder("bunker_objects_by_state", () -> lastCounts.getOrDefault(state, 0L))
                    .description("objects per lifecycle state").tag("state", state).register(bunker.metrics());
        }
        Gauge.builder("bunker_next_purge_timestamp_seconds", () -> nextPurge == null ? 0 : nextPurge.getEpochSecond())
                .description("when the next permanently deleted object may be purged (0: none waiting)").register(bunker.metrics());
        Gauge.builder("bunker_purge_brake_tripped", () -> brakeTripped ? 1 : 0)
                .description("1 while the mass-deletion brake holds purges until `bunker purge --confirm`").register(bunker.metrics());
    }

    public Trash trash() { return trash; }

    public ReleaseHolds releaseHolds() { return releaseHolds; }

    public PurgeExpired purge() { return purge; }

    public Audit audit() { return audit; }

    /** Runs every due transition once (trash expiry, hold release, purge), if no other process is running them now. */
    public boolean runDue() throws SQLException {
        try (Connection c = db.getConnection()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(TRY_LOCK)) {
                rs.next();
                if (!rs.getBoolean(1)) return false;
            }
            try {
                trash.expire();
                while (releaseHolds.run(500) == 500) {
                    // more to release
                }
                purge.run(false, false, "lifecycle");
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute(UNLOCK);
                }
            }
        }
        status();
        return true;
    }

    /** Counts per lifecycle state, the next purge time and the brake. */
    public Map<String, Object> status() throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String s : new String[] {"live", "trashed", "deleting", "deleted"}) counts.put(s, 0L);
        Instant next = null;
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery(COUNTS)) {
                while (rs.next()) counts.put(rs.getString(1), rs.getLong(2));
            }
            try (ResultSet rs = s.executeQuery(NEXT_PURGE)) {
                if (rs.next() && rs.getTimestamp(1) != null) next = rs.getTimestamp(1).toInstant();
            }
        }
        String brake = purge.trippedReason();
        lastCounts = counts;
        brakeTripped = brake != null;
        nextPurge = next;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("objects", counts);
        out.put("nextPurge", next);
        out.put("purgeBrake", brake == null ? "ok" : "TRIPPED: " + brake + " (run `bunker purge --confirm`)");
        return out;
    }

    public void start(java.time.Duration every) {
        schedule = Periodic.start("lifecycle", java.time.Duration.ZERO, every, LOG, this::runDue);
    }

    @Override
    public void close() {
        if (schedule != null) schedule.shutdownNow();
    }
}
