package dev.bunker.replication;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/** How far replication has got: copies per store and state, queue depth, lag, failed jobs. */
public final class ReplicationStatus {
    /** One reading of the ledger and the queue. */
    public record Snapshot(long objects, Map<String, Map<String, Long>> copiesByStore, long queueDepth, long failedJobs,
                           double oldestPendingSeconds) {}

    static final String COPIES = "select store, state, count(*) from copies group by store, state order by store, state";
    static final String QUEUE = """
            select count(*) filter (where state = 'pending'),
                   count(*) filter (where state = 'failed'),
                   coalesce(extract(epoch from now() - min(enqueued_at) filter (where state = 'pending')), 0),
                   (select count(*) from objects)
              from replication_jobs
            """;

    private final DataSource db;
    private volatile Snapshot cached;
    private volatile long cachedAt;

    public ReplicationStatus(DataSource db) {
        this.db = db;
    }

    public Snapshot read() throws SQLException {
        Map<String, Map<String, Long>> byStore = new TreeMap<>();
        long depth;
        long failed;
        double lag;
        long objects;
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery(COPIES)) {
                while (rs.next()) byStore.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getLong(3));
            }
            try (ResultSet rs = s.executeQuery(QUEUE)) {
                rs.next();
                depth = rs.getLong(1);
                failed = rs.getLong(2);
                lag = rs.getDouble(3);
                objects = rs.getLong(4);
            }
        }
        Snapshot snap = new Snapshot(objects, byStore, depth, failed, lag);
        cached = snap;
        cachedAt = System.nanoTime();
        return snap;
    }

    /** A reading at most {@code maxAge} old, for metrics scrapes. */
    Snapshot recent(Duration maxAge) {
        Snapshot s = cached;
        if (s != null && System.nanoTime() - cachedAt < maxAge.toNanos()) return s;
        try {
            return read();
        } catch (SQLException e) {
            return s == null ? new Snapshot(0, Map.of(), 0, 0, 0) : s;
        }
    }

    /** Registers the gauges: queue depth, lag, failed jobs, and copies per store and state. */
    public void bindTo(MeterRegistry registry, Iterable<String> stores) {
        Duration fresh = Duration.ofSeconds(5);
        Gauge.builder("bunker_replication_queue_depth", () -> recent(fresh).queueDepth()).description("jobs waiting to be copied").register(registry);
        Gauge.builder("bunker_replication_failed_jobs", () -> recent(fresh).failedJobs()).description("jobs that gave up; `bunker retry` re-drives them").register(registry);
        Gauge.builder("bunker_replication_lag_seconds", () -> recent(fresh).oldestPendingSeconds()).description("age of the oldest unreplicated job").register(registry);
        Gauge.builder("bunker_objects", () -> recent(fresh).objects()).description("objects in the ledger").register(registry);
        for (String store : stores) {
            for (CopyState state : CopyState.values()) {
                Gauge.builder("bunker_copies", () -> recent(fresh).copiesByStore().getOrDefault(store, Map.of()).getOrDefault(state.toString(), 0L))
                        .description("copies by store and state").tag("store", store).tag("state", state.toString()).register(registry);
            }
        }
    }
}
