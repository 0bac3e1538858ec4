package dev.bunker.web;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.backup.Backups;
import dev.bunker.db.NodeRegistry;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.replication.Replication;
import dev.bunker.replication.ReplicationStatus;
import dev.bunker.store.StoreHealth;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /v1/status}: replication progress, store health and live processes; also what {@code bunker status} prints. */
public final class StatusRoutes {
    private StatusRoutes() {}

    public static List<Route> of(Bunker bunker, Replication replication, Lifecycle lifecycle, Backups backups) {
        return List.of(Route.of("GET", "/v1/status", TokenScope.READ, call -> {
            try {
                call.json(200, report(bunker, replication, lifecycle, backups));
            } catch (SQLException e) {
                throw new java.io.IOException("database error: " + e.getMessage(), e);
            }
        }));
    }

    public static Map<String, Object> report(Bunker bunker, Replication replication, Lifecycle lifecycle, Backups backups) throws SQLException {
        ReplicationStatus.Snapshot s = replication.status().read();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("objects", s.objects());
        Map<String, Object> queue = new LinkedHashMap<>();
        queue.put("depth", s.queueDepth());
        queue.put("failed", s.failedJobs());
        queue.put("oldestPendingSeconds", Math.round(s.oldestPendingSeconds() * 10) / 10.0);
        out.put("replication", queue);
        out.put("copies", s.copiesByStore());
        out.put("lifecycle", lifecycle.status());
        out.put("backups", backups.lastBackups());
        Map<String, Object> stores = new LinkedHashMap<>();
        for (StoreHealth.Result r : bunker.storeHealth(SystemRoutes.HEALTH_TIMEOUT_MILLIS)) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("healthy", r.ok());
            h.put("latencyMillis", r.latencyMillis());
            if (!r.ok()) h.put("error", r.error());
            stores.put(r.store(), h);
        }
        out.put("stores", stores);
        out.put("nodes", NodeRegistry.live(bunker.database()));
        return out;
    }
}
