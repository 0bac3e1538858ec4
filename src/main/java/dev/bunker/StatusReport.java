package dev.bunker;

import dev.bunker.db.NodeRegistry;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.replication.ReplicationStatus;
import dev.bunker.store.StoreHealth;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /v1/status} answers and {@code bunker status} prints: objects, and copies (count and bytes) by state,
 * the replication queue, the lifecycle, the newest backups and drills, alerts firing, store health,
 * the serve processes sharing the database and each source's WAL streaming.
 */
public record StatusReport(long objects, Queue replication, Map<String, Map<String, Long>> copies, Map<String, Map<String, Long>> copyBytes,
                           Lifecycle.Status lifecycle,
                           Map<String, Map<String, Instant>> backups, Map<String, Instant> drills, List<String> alertsFiring,
                           Map<String, StoreStatus> stores, List<NodeRegistry.Node> nodes, List<dev.bunker.pitr.WalLedger.Row> wal) {
    /** The replication queue: jobs waiting, jobs failed for good, and how long the oldest has waited. */
    public record Queue(long depth, long failed, double oldestPendingSeconds) {}

    /** One store's health check; {@code error} null when healthy. */
    public record StoreStatus(boolean healthy, long latencyMillis, String error) {}

    /** How long a status report waits for the slowest store's health check. */
    public static final long HEALTH_TIMEOUT_MILLIS = 5_000;

    public static StatusReport of(Engine engine) throws SQLException {
        ReplicationStatus.Snapshot s = engine.replication().status().read();
        Map<String, StoreStatus> stores = new LinkedHashMap<>();
        for (StoreHealth.Result r : engine.bunker().storeHealth(HEALTH_TIMEOUT_MILLIS)) {
            stores.put(r.store(), new StoreStatus(r.ok(), r.latencyMillis(), r.ok() ? null : r.error()));
        }
        return new StatusReport(s.objects(), new Queue(s.queueDepth(), s.failedJobs(), Math.round(s.oldestPendingSeconds() * 10) / 10.0),
                s.copiesByStore(), s.copyBytesByStore(), engine.lifecycle().status(), engine.backups().lastBackups(), engine.drills().lastSuccesses(),
                engine.alerts().list().stream().filter(a -> a.firing()).map(a -> a.name() + ": " + a.message()).toList(),
                stores, NodeRegistry.live(engine.bunker().database()), engine.wal().list());
    }
}
