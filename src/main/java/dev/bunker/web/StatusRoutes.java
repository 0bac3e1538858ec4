package dev.bunker.web;

import dev.bunker.Engine;
import dev.bunker.StatusReport;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.Durations;
import dev.bunker.history.Series;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/status}: replication progress, store health and live processes (also what {@code bunker status} prints);
 * the alerts, the disaster-recovery table, the drills, the sampled history of the key figures, and who is asking.
 */
public final class StatusRoutes {
    private StatusRoutes() {}

    public static List<Route> of(Engine engine, Series history) {
        return List.of(
                Route.of("GET", "/v1/whoami", TokenScope.READ, call -> call.json(200, Map.of("name", call.caller().name(),
                        "scope", call.caller().scope().label()))),
                Route.of("GET", "/v1/history", TokenScope.READ, call -> {
                    var dashboard = engine.bunker().config().dashboard();
                    Duration since = since(call.query().get("since"), dashboard.history());
                    java.time.Instant now = engine.bunker().clock().instant();
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("since", now.minus(since));
                    body.put("series", history.since(now.minus(since), now, dashboard.sampleEvery()));
                    call.json(200, body);
                }),
                Route.of("GET", "/v1/status", TokenScope.READ, call -> call.json(200, StatusReport.of(engine))),
                Route.of("GET", "/v1/alerts", TokenScope.READ, call -> call.json(200, Map.of("alerts", engine.alerts().list()))),
                Route.of("GET", "/v1/dr", TokenScope.READ, call -> call.json(200, Map.of("scenarios", engine.recovery()))),
                Route.of("GET", "/v1/drills", TokenScope.READ, call -> call.json(200, Map.of("runs", engine.drills().runs().history(call.query().get("kind"), 50)))));
    }

    /** {@code since}: 1s up to the history kept (dashboard.history); default 24h. */
    private static Duration since(String text, Duration kept) {
        if (text == null) return Duration.ofHours(24).compareTo(kept) < 0 ? Duration.ofHours(24) : kept;
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException("since \"" + text + "\" is not a duration; expected e.g. 24h or 7d");
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(kept) > 0) {
            throw new BadRequestException("since " + text + " is out of range: history is kept for " + Durations.format(kept)
                    + " (dashboard.history); expected 1s to that");
        }
        return d;
    }
}
