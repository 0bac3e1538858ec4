package dev.bunker.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.export.ExportLedger;
import dev.bunker.export.Exports;
import dev.bunker.json.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Export subscriptions: {@code GET /v1/exports} lists them, {@code POST /v1/exports} creates one (admin), and
 * {@code GET /v1/exports/{name}} shows its deliveries. Runs are started by {@code bunker export}, never by the API, so
 * an API caller cannot make Bunker write files where it chooses.
 */
public final class ExportRoutes {
    static final int MAX_BODY = 8 * 1024;
    static final String EXAMPLE = "{\"name\": \"u42\", \"prefix\": \"users/42/\", \"recipient\": \"age1...\" (optional), \"format\": \"tar\" (or zip, optional)}";

    private ExportRoutes() {}

    public static List<Route> of(Exports exports) {
        return List.of(
                Route.of("GET", "/v1/exports", TokenScope.READ, call -> {
                    List<Map<String, Object>> out = new ArrayList<>();
                    for (ExportLedger.Subscription s : exports.ledger().subscriptions()) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("subscription", s);
                        row.put("lastDelivery", exports.ledger().deliveries(s.name(), 1).stream().findFirst().orElse(null));
                        out.add(row);
                    }
                    call.json(200, Map.of("subscriptions", out));
                }),
                Route.of("POST", "/v1/exports", TokenScope.ADMIN, call -> {
                    JsonNode body = parse(call.smallBody(MAX_BODY));
                    ExportLedger.Subscription s = exports.subscribe(text(body, "name"), text(body, "prefix"), text(body, "recipient"),
                            text(body, "format"), "api:" + call.callerName());
                    call.json(201, s);
                }),
                Route.of("GET", "/v1/exports/(?<name>[^/]+)", TokenScope.READ, call -> {
                    ExportLedger.Subscription s = exports.subscription(call.param("name"));
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("subscription", s);
                    out.put("deliveries", exports.ledger().deliveries(s.name(), call.limit("limit", 100, 1000)));
                    call.json(200, out);
                }));
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode n = Json.MAPPER.readTree(text);
            if (n == null || !n.isObject()) throw new BadRequestException("the body must be a JSON object: " + EXAMPLE);
            return n;
        } catch (IOException e) {
            throw new BadRequestException("the body is not JSON: expected " + EXAMPLE);
        }
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new BadRequestException(field + " must be a string: " + EXAMPLE);
        return v.asText();
    }
}
