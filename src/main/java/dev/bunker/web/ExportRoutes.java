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
 * Export subscriptions: {@code GET /v1/exports} lists them (and the latest one-off exports), {@code POST /v1/exports}
 * creates one (admin), {@code GET /v1/exports/{name}} shows its deliveries, and {@code GET /v1/exports/deliveries/{id}}
 * one delivery with what it delivered and listed as deleted, a page at a time. Runs are started by {@code bunker export},
 * never by the API, so an API caller cannot make Bunker write files where it chooses.
 */
public final class ExportRoutes {
    static final int MAX_BODY = 8 * 1024;
    static final int ONE_OFFS = 20;
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
                    call.json(200, Map.of("subscriptions", out, "oneOff", exports.ledger().deliveries(null, ONE_OFFS)));
                }),
                Route.of("POST", "/v1/exports", TokenScope.ADMIN, call -> {
                    JsonNode body = parse(call.smallBody(MAX_BODY));
                    ExportLedger.Subscription s = exports.subscribe(text(body, "name"), text(body, "prefix"), text(body, "recipient"),
                            text(body, "format"), "api:" + call.callerName());
                    call.json(201, s);
                }),
                Route.of("GET", "/v1/exports/deliveries/(?<id>[^/]+)", TokenScope.READ, call -> {
                    ExportLedger.Delivery d = exports.delivery(call.param("id"));
                    int limit = call.limit("limit", 1000, 10_000);
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("delivery", d);
                    page(out, "objects", exports.ledger().items(d.id(), false, call.query().get("objects-after"), limit), limit);
                    page(out, "deleted", exports.ledger().items(d.id(), true, call.query().get("deleted-after"), limit), limit);
                    call.json(200, out);
                }),
                Route.of("GET", "/v1/exports/(?<name>[^/]+)", TokenScope.READ, call -> {
                    ExportLedger.Subscription s = exports.subscription(call.param("name"));
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("subscription", s);
                    out.put("deliveries", exports.ledger().deliveries(s.name(), call.limit("limit", 100, 1000)));
                    call.json(200, out);
                }));
    }

    /** A page of items, and the key to ask for the next one after ({@code objects-after}, {@code deleted-after}) when there may be more. */
    private static void page(Map<String, Object> out, String name, List<ExportLedger.Item> items, int limit) {
        out.put(name, items);
        out.put(name + "Next", items.size() == limit ? items.get(items.size() - 1).key() : null);
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
