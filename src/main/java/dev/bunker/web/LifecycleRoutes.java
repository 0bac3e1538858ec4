package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.Trash;
import dev.bunker.store.ObjectKeys;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trash and restore: {@code DELETE /v1/objects/{key}}, {@code POST .../restore}, {@code GET /v1/trash}, {@code POST /v1/trash/empty},
 * and {@code POST .../undelete} (admin) to take back a permanent deletion before the purge.
 */
public final class LifecycleRoutes {
    private LifecycleRoutes() {}

    public static List<Route> of(Lifecycle lifecycle, ObjectKeys.Limits limits) {
        return List.of(
                Route.of("POST", "/v1/objects/(?<key>.+)/restore", TokenScope.WRITE, call -> {
                    String key = ObjectRoutes.key(call, limits);
                    lifecycle.trash().restore(key, actor(call));
                    call.json(200, Map.of("key", key, "state", "live"));
                }),
                Route.of("POST", "/v1/objects/(?<key>.+)/undelete", TokenScope.ADMIN, call -> {
                    String key = ObjectRoutes.key(call, limits);
                    lifecycle.undelete(key, actor(call));
                    call.json(200, Map.of("key", key, "state", "live"));
                }),
                Route.of("DELETE", "/v1/objects/(?<key>.+)", TokenScope.WRITE, call -> {
                    String key = ObjectRoutes.key(call, limits);
                    Instant until = lifecycle.trash().trash(key, actor(call));
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("key", key);
                    body.put("state", "trashed");
                    body.put("restorableUntil", until);
                    call.json(202, body);
                }),
                Route.of("GET", "/v1/trash", TokenScope.READ, call -> {
                    Map<String, String> q = call.query();
                    int limit = call.limit("limit", 1000, 10_000);
                    List<Trash.Item> items = lifecycle.trash().list(q.get("after"), limit);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("items", items);
                    body.put("next", items.size() == limit ? items.get(items.size() - 1).key() : null);
                    call.json(200, body);
                }),
                Route.of("POST", "/v1/trash/empty", TokenScope.ADMIN, call -> {
                    String key = call.query().get("key");
                    String problem = key == null ? null : ObjectKeys.problem(key, limits);
                    if (problem != null) throw new BadRequestException("invalid object key " + ObjectKeys.quote(key) + ": " + problem);
                    List<String> keys = lifecycle.trash().empty(key, actor(call));
                    call.json(202, Map.of("permanentlyDeleted", keys));
                }));
    }

    static String actor(Call call) {
        return "api:" + call.callerName();
    }
}
