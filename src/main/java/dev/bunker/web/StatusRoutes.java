package dev.bunker.web;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.db.NodeRegistry;
import dev.bunker.replication.ReplicationStatus;
import dev.bunker.store.StoreHealth;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /v1/status}: replication progress, store health and live processes; also what {@code bunker status} prints. */
public final class StatusRoutes {
    private StatusRoutes() {}

    public static List<Route> of(Engine engine) {
        return List.of(
                Route.of("GET", "/v1/status", TokenScope.READ, call -> call.json(200, report(engine))),
                Route.of("GET", "/v1/alerts", TokenScope.READ, call -> call.json(200, Map.of("alerts", engine.alerts().list()))),
                Route.of("GET", "/v1/dr", TokenScope.READ, call -> call.json(200, dev.bunker.drill.RecoveryReport.asMap(dev.bunker.drill.RecoveryReport.compute(engine)))),
                Route.of("GET", "/v1/drills", TokenScope.READ, call -> call.json(200, Map.of("runs", engine.drills().runs().history(call.query().get("kind"), 50)))));
    }

    public static Map<String, Object> report(Engine engine) throws SQLException {
        Bunker bunker = engine.bunker();
        ReplicationStatus.Snapshot s = engine.replication().status().read();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("objects", s.objects());
        Map<String, Object> queue = new LinkedHashMap<>();
        queue.put("depth", s.queueDepth());
        queue.put("failed", s.failedJobs());
        queue.put("oldestPendingSeconds", Math.round(s.oldestPendingSeconds() * 10) / 10.0);
        out.put("replication", queue);
        out.put("copies", s.copiesByStore());
        out.put("lifecycle", engine.lifecycle().status());
        out.put("backups", engine.backups().lastBackups());
        out.put("drills", engine.drills().lastSuccesses());
        out.put("alertsFiring", engine.alerts().list().stream().filter(a -> a.firing()).map(a -> a.name() + ": " + a.message()).toList());
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
