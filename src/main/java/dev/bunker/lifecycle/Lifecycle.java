package dev.bunker.lifecycle;

import dev.bunker.replication.ObjectState;
import dev.bunker.replication.CopyState;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import dev.bunker.Periodic;
import dev.bunker.db.AdvisoryLock;
import dev.bunker.config.BunkerConfig;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ReplicationJobs;
import dev.bunker.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import io.micrometer.core.instrument.Gauge;
import java.sql.SQLException;
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

    private final DataSource db;
    private final LifecycleLedger rows;
    private final DeletionBrake brake;
    private final Trash trash;
    private final ReleaseHolds releaseHolds;
    private final PurgeExpired purge;
    private final Audit audit;
    private final Map<String, Store> stores;
    private final BunkerConfig config;
    private final Ledger ledger;
    private final ReplicationJobs jobs;
    private ScheduledExecutorService schedule;
    private volatile Map<String, Long> lastCounts = Map.of();
    private volatile boolean brakeTripped;
    private volatile Instant nextPurge;

    /** {@code ledger} and {@code jobs}: to mark and re-enqueue the copies of an undeleted object. */
    public Lifecycle(BunkerConfig config, DataSource db, Map<String, Store> stores, Clock clock, MeterRegistry metrics, Ledger ledger,
                     ReplicationJobs jobs) {
        this.db = db;
        this.rows = new LifecycleLedger(db);
        this.brake = new DeletionBrake(db, config.lifecycle());
        this.trash = new Trash(db, rows, config.lifecycle(), clock, brake);
        this.releaseHolds = new ReleaseHolds(db, rows, config, stores, clock, brake);
        this.purge = new PurgeExpired(db, rows, config, stores, clock, brake);
        this.audit = new Audit(db);
        this.stores = stores;
        this.config = config;
        this.ledger = ledger;
        this.jobs = jobs;
        for (ObjectState state : ObjectState.values()) {
            Gauge.builder("bunker_objects_by_state", () -> lastCounts.getOrDefault(state.toString(), 0L))
                    .description("objects per lifecycle state").tag("state", state.toString()).register(metrics);
        }
        Gauge.builder("bunker_next_purge_timestamp_seconds", () -> nextPurge == null ? 0 : nextPurge.getEpochSecond())
                .description("when the next permanently deleted object may be purged (0: none waiting)").register(metrics);
        Gauge.builder("bunker_purge_brake_tripped", () -> brakeTripped ? 1 : 0)
                .description("1 while the mass-deletion brake holds purges until `bunker purge --confirm CODE`").register(metrics);
    }

    public Trash trash() { return trash; }

    public ReleaseHolds releaseHolds() { return releaseHolds; }

    public PurgeExpired purge() { return purge; }

    public DeletionBrake brake() { return brake; }

    public Audit audit() { return audit; }

    /** Runs {@code work} if no other process is running lifecycle transitions now; empty if one is. */
    private <T> Optional<T> exclusively(AdvisoryLock.Job<T> work) throws SQLException {
        return AdvisoryLock.tryWith(db, "bunker.lifecycle", "", work);
    }

    /** The scheduled run: every due transition once, each under the brake, unless another process is running them. */
    public boolean runDue() throws SQLException {
        return runNow("lifecycle").isPresent();
    }

    /**
     * Runs every due transition once (trash expiry, hold release, purge), each under the brake, if no other process
     * is running them now; returns the purge report, or empty when another process holds the lifecycle lock.
     */
    public Optional<PurgeExpired.Report> runNow(String actor) throws SQLException {
        Optional<PurgeExpired.Report> report = exclusively(() -> runSteps(false, actor));
        if (report.isPresent()) status();
        return report;
    }

    /** What the next run would move towards destruction, and the code an operator confirms that exact set with. */
    public DeletionReview review() throws SQLException {
        return DeletionReview.of(trash.expiring().keySet(), releaseHolds.pendingKeys(), purge.run(true, false, "review").keys());
    }

    /**
     * Runs every transition with the brake released, but only if what is due is still exactly the set reviewed under
     * {@code code}; returns the purge report, or empty when another process holds the lifecycle lock.
     */
    public Optional<PurgeExpired.Report> runConfirmed(String code, String actor) throws SQLException {
        return exclusively(() -> {
            DeletionReview now = review();
            if (!now.code().equals(code)) {
                throw new LifecycleException(LifecycleException.Reason.CONFLICT, "what is due changed since it was reviewed (confirmation code " + code + ", now " + now.code()
                        + ": " + now.summary() + "); review it again with `bunker purge --dry-run`");
            }
            return runSteps(true, actor);
        });
    }

    /** The steps in order, under the lifecycle lock; {@code confirmed}: an operator reviewed this set, so the brake lets it through. */
    private PurgeExpired.Report runSteps(boolean confirmed, String actor) throws SQLException {
        trash.expire(confirmed, actor);
        while (releaseHolds.run(500, confirmed, actor) == 500) {
            // more to release
        }
        return purge.run(false, confirmed, actor);
    }

    /**
     * Takes back a permanent deletion before the purge: the object is live again, a copy purged from some store
     * already is marked missing, and replication puts the holds back on every locked copy and makes missing ones again.
     */
    public void undelete(String key, String actor) throws SQLException {
        List<String> present = new ArrayList<>();
        for (String name : config.stores().keySet()) {
            if (stores.get(name).stat(key).isPresent()) present.add(name);
        }
        if (present.isEmpty()) throw new LifecycleException(LifecycleException.Reason.CONFLICT, "object '" + key + "' has no copy left in any store; it cannot be undeleted");
        trash.undelete(key, actor);
        List<String> redo = new ArrayList<>();
        for (Ledger.CopyRow copy : ledger.copies(key)) {
            if (!present.contains(copy.store())) {
                ledger.mark(key, copy.store(), CopyState.MISSING, "gone (purged there) when the object was undeleted");
                redo.add(copy.store());
            } else if (config.store(copy.store()).lock() != null) {
                redo.add(copy.store()); // its hold was released: replication puts it back
            }
        }
        if (!redo.isEmpty()) jobs.enqueue(key, redo);
    }

    /** Objects per lifecycle state, when the next purge may run, and the mass-deletion brake ("ok" or why it is tripped). */
    public record Status(Map<String, Long> objects, Instant nextPurge, String deletionBrake) {}

    /** Counts per lifecycle state, the next purge time and the brake. */
    public Status status() throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (ObjectState s : ObjectState.values()) counts.put(s.toString(), 0L);
        counts.putAll(rows.counts());
        Instant next = rows.nextPurge();
        String tripped = brake.trippedReason();
        lastCounts = counts;
        brakeTripped = tripped != null;
        nextPurge = next;
        return new Status(counts, next, tripped == null ? "ok"
                : "TRIPPED: " + tripped + " (review with `bunker purge --dry-run`, then `bunker purge --confirm CODE`)");
    }

    public void start(java.time.Duration every) {
        schedule = Periodic.start("lifecycle", java.time.Duration.ZERO, every, LOG, this::runDue);
    }

    @Override
    public void close() {
        if (schedule != null) schedule.shutdownNow();
    }
}
