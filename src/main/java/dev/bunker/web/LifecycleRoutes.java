package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.LifecycleException;
import dev.bunker.lifecycle.Trash;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Trash and restore: {@code DELETE /v1/objects/{key}}, {@code POST .../restore}, {@code GET /v1/trash}, {@code POST /v1/trash/empty}. */
public final class LifecycleRoutes {
    private LifecycleRoutes() {}

    public static List<Route> of(Lifecycle lifecycle) {
        return List.of(
                Route.of("POST", "/v1/objects/(?<key>.+)/restore", TokenScope.WRITE, call -> run(call, () -> {
                    lifecycle.trash().restore(call.param("key"), actor(call));
                    call.json(200, Map.of("key", call.param("key"), "state", "live"));
                })),
                Route.of("DELETE", "/v1/objects/(?<key>.+)", TokenScope.WRITE, call -> run(call, () -> {
                    Instant until = lifecycle.trash().trash(call.param("key"), actor(call));
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("key", call.param("key"));
                    body.put("state", "trashed");
                    body.put("restorableUntil", until);
                    call.json(202, body);
                })),
                Route.of("GET", "/v1/trash", TokenScope.READ, call -> run(call, () -> {
                    Map<String, String> q = call.query();
                    int limit = parseLimit(q.get("limit"));
                    List<Trash.Item> items = lifecycle.trash().list(q.get("after"), limit);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("items", items);
                    body.put("next", items.size() == limit ? items.get(items.size() - 1).key() : null);
                    call.json(200, body);
                })),
                Route.of("POST", "/v1/trash/empty", TokenScope.ADMIN, call -> run(call, () -> {
                    List<String> keys = lifecycle.trash().empty(call.query().get("key"), actor(call));
                    call.json(202, Map.of("permanentlyDeleted", keys));
                })));
    }

    static String actor(Call call) {
        return "api:" + call.callerName();
    }

    private static int parseLimit(String text) {
        if (text == null) return 1000;
        try {
            int n = Integer.parseInt(text);
            if (n < 1 || n > 10_000) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequestException("limit must be a whole number from 1 to 10000, got \"" + text + "\"");
        }
    }

    /** A handler body that may fail with SQL or lifecycle errors. */
    private interface Body {
        void run() throws IOException, SQLException;
    }

    private static void run(Call call, Body body) throws IOException {
        try {
            body.run();
        } catch (LifecycleException e) {
            call.error(e.status(), e.getMessage());
        } catch (SQLException e) {
            throw new IOException("database error: " + e.getMessage(), e);
        }
    }
}
