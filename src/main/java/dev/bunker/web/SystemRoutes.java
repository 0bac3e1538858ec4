package dev.bunker.web;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.Durations;
import dev.bunker.config.StoreConfig;
import dev.bunker.store.StoreHealth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Health, metrics and the store list: {@code GET /healthz}, {@code GET /metrics}, {@code GET /v1/stores}. */
public final class SystemRoutes {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SystemRoutes.class);
    static final long HEALTH_TIMEOUT_MILLIS = dev.bunker.StatusReport.HEALTH_TIMEOUT_MILLIS;

    private SystemRoutes() {}

    public static List<Route> of(Bunker bunker) {
        return List.of(
                Route.of("GET", "/healthz", null, call -> healthz(bunker, call)),
                Route.of("GET", "/metrics", null, call ->
                        call.text(200, "text/plain; version=0.0.4; charset=utf-8", bunker.metrics().scrape())),
                Route.of("GET", "/v1/stores", TokenScope.READ, call -> call.json(200, stores(bunker))));
    }

    /** Public (no token), so it names what fails but not why: error texts can name hosts and buckets; /v1/stores has them. */
    private static void healthz(Bunker bunker, Call call) throws java.io.IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        List<String> failing = new ArrayList<>();
        try {
            bunker.database().ping();
            body.put("database", "ok");
        } catch (Exception e) {
            LOG.warn("health check: the database does not answer: {}", e.toString());
            body.put("database", "failing");
            failing.add("database");
        }
        Map<String, String> stores = new LinkedHashMap<>();
        for (StoreHealth.Result r : bunker.storeHealth(HEALTH_TIMEOUT_MILLIS)) {
            stores.put(r.store(), r.ok() ? "ok" : "failing");
            if (!r.ok()) failing.add("store " + r.store());
        }
        body.put("stores", stores);
        body.put("status", failing.isEmpty() ? "ok" : "failing: " + String.join(", ", failing));
        call.json(failing.isEmpty() ? 200 : 503, body);
    }

    static List<Map<String, Object>> stores(Bunker bunker) {
        Map<String, StoreHealth.Result> health = new LinkedHashMap<>();
        for (StoreHealth.Result r : bunker.storeHealth(HEALTH_TIMEOUT_MILLIS)) health.put(r.store(), r);
        List<Map<String, Object>> out = new ArrayList<>();
        for (StoreConfig s : bunker.config().stores().values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            StoreHealth.Result h = health.get(s.name());
            m.put("name", s.name());
            m.put("type", s instanceof StoreConfig.S3 ? "s3" : "local");
            m.put("tier", s.tier().name().toLowerCase());
            m.put("role", s.name().equals(bunker.config().replication().primary()) ? "primary"
                    : bunker.config().replication().targets().contains(s.name()) ? "replica" : "unused");
            m.put("lock", s.lock() == null ? null : Map.of("mode", "compliance", "period", Durations.format(s.lock().period())));
            m.put("healthy", h.ok());
            m.put("latencyMillis", h.latencyMillis());
            if (!h.ok()) m.put("error", h.error());
            out.add(m);
        }
        return out;
    }
}
