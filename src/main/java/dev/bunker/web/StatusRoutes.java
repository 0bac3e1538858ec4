package dev.bunker.web;

import dev.bunker.Engine;
import dev.bunker.StatusReport;
import dev.bunker.config.BunkerConfig.TokenScope;
import java.util.List;
import java.util.Map;

/** {@code GET /v1/status}: replication progress, store health and live processes; also what {@code bunker status} prints. */
public final class StatusRoutes {
    private StatusRoutes() {}

    public static List<Route> of(Engine engine) {
        return List.of(
                Route.of("GET", "/v1/status", TokenScope.READ, call -> call.json(200, StatusReport.of(engine))),
                Route.of("GET", "/v1/alerts", TokenScope.READ, call -> call.json(200, Map.of("alerts", engine.alerts().list()))),
                Route.of("GET", "/v1/dr", TokenScope.READ, call -> call.json(200, Map.of("scenarios", engine.recovery()))),
                Route.of("GET", "/v1/drills", TokenScope.READ, call -> call.json(200, Map.of("runs", engine.drills().runs().history(call.query().get("kind"), 50)))));
    }
}
