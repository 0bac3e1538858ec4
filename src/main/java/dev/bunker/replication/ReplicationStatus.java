package dev.bunker.replication;

import dev.bunker.Periodic;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How far replication has got: copies per store and state, queue depth, lag, failed jobs; constant-time at any ledger size. */
public final class ReplicationStatus {
    /** One reading of the ledger and the queue. */
    public record Snapshot(long objects, Map<String, Map<String, Long>> copiesByStore, Map<String, Map<String, Long>> copyBytesByStore,
                           long queueDepth, long failedJobs, double oldestPendingSeconds) {}

    /** Age of the oldest waiting job: job ids grow with enqueue time (a re-enqueue keeps both), so the first pending id is it. */
    static final String LAG = """
            select coalesce(extract(epoch from now() - (select enqueued_at from replication_jobs where state = 'pending' order by id limit 1)), 0)
            """;

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationStatus.class);

    private final DataSource db;
    private volatile Snapshot cached;
    private ScheduledExecutorService refresher;
    private volatile boolean sizesFilled;
    private volatile boolean copiesFolded;

    public ReplicationStatus(DataSource db) {
        this.db = db;
    }

    /** Reads the counts (a few rows, see {@link LedgerCounts}) and the lag (one index probe). */
    public Snapshot read() throws SQLException {
        LedgerCounts.Counts counts;
        double lag;
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            counts = LedgerCounts.read(c);
            try (ResultSet rs = s.executeQuery(LAG)) {
                rs.next();
                lag = rs.getDouble(1);
            }
        }
        Snapshot snap = new Snapshot(counts.allObjects().count(), counts.copies(), counts.copyBytes(), counts.jobs().getOrDefault("pending", 0L),
                counts.jobs().getOrDefault("failed", 0L), lag);
        cached = snap;
        return snap;
    }

    /**
     * Folds the counts' deltas and takes a reading every {@code every}, for the gauges: a scrape never queries the
     * database. Runs in {@code serve} only; every serve of a shared database folds, which is safe (see LedgerCounts).
     */
    public synchronized void start(Duration every) {
        if (refresher != null) return;
        refresher = Periodic.start("status", Duration.ZERO, every, LOG, () -> {
            try (Connection c = db.getConnection()) {
                // Copies recorded before V18 get their sizes a few seconds' worth of batches at a time, until done.
                if (!sizesFilled) sizesFilled = CopyRecords.fillCopySizes(c, 10_000, 2_000);
                // Copies recorded before V23 are folded into their objects the same way, after that; a batch that
                // gives way to a writer (a lock it could not get within its timeout) runs again next time.
                else if (!copiesFolded) {
                    try {
                        copiesFolded = CopyRecords.fold(c, 10_000, 2_000);
                    } catch (SQLException e) {
                        LOG.info("folding copies recorded before V23 paused ({}); it goes on in the next round", e.getMessage());
                    }
                }
                LedgerCounts.fold(c);
            }
            read();
        });
    }

    public synchronized void stop() {
        if (refresher != null) refresher.shutdownNow();
        refresher = null;
    }

    /** The latest reading's figure, or NaN before the first one. */
    private double latest(java.util.function.ToDoubleFunction<Snapshot> figure) {
        Snapshot s = cached;
        return s == null ? Double.NaN : figure.applyAsDouble(s);
    }

    /** Registers the gauges: queue depth, lag, failed jobs, and copies and their bytes per store and state, from the latest reading. */
    public void bindTo(MeterRegistry registry, Iterable<String> stores) {
        Gauge.builder("bunker_replication_queue_depth", () -> latest(Snapshot::queueDepth)).description("jobs waiting to be copied").register(registry);
        Gauge.builder("bunker_replication_failed_jobs", () -> latest(Snapshot::failedJobs)).description("jobs that gave up; `bunker retry` re-drives them").register(registry);
        Gauge.builder("bunker_replication_lag_seconds", () -> latest(Snapshot::oldestPendingSeconds)).description("age of the oldest unreplicated job").register(registry);
        Gauge.builder("bunker_objects", () -> latest(Snapshot::objects)).description("objects in the ledger").register(registry);
        for (String store : stores) {
            for (CopyState state : CopyState.values()) {
                Gauge.builder("bunker_copies", () -> latest(s -> s.copiesByStore().getOrDefault(store, Map.of()).getOrDefault(state.toString(), 0L)))
                        .description("copies by store and state").tag("store", store).tag("state", state.toString()).register(registry);
                Gauge.builder("bunker_copy_bytes", () -> latest(s -> s.copyBytesByStore().getOrDefault(store, Map.of()).getOrDefault(state.toString(), 0L)))
                        .description("bytes of the copies by store and state (sizes known when recorded)").baseUnit("bytes")
                        .tag("store", store).tag("state", state.toString()).register(registry);
            }
        }
    }
}
