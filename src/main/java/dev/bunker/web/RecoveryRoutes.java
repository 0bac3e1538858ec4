package dev.bunker.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.Durations;
import dev.bunker.json.Json;
import dev.bunker.recovery.RecoveryAudits;
import dev.bunker.recovery.Runbook;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recovery runbook ({@code GET /v1/dr/runbook}, as JSON, Markdown or HTML) and the monthly audits of it
 * ({@code GET /v1/dr/audits}; {@code POST /v1/dr/audits} records one, admin only).
 */
public final class RecoveryRoutes {
    static final int MAX_AUDIT_BODY = 16 * 1024;

    private RecoveryRoutes() {}

    public static List<Route> of(Engine engine) {
        return List.of(
                Route.of("GET", "/v1/dr/runbook", TokenScope.READ, call -> {
                    Runbook.Book book = Runbook.write(engine.bunker().config(), engine.recovery(), engine.bunker().clock().instant());
                    String format = call.query().getOrDefault("format", "json");
                    switch (format) {
                        case "json" -> call.json(200, book);
                        case "md" -> call.text(200, "text/markdown; charset=utf-8", Runbook.markdown(book));
                        case "html" -> {
                            call.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
                            call.text(200, "text/html; charset=utf-8", Runbook.html(book));
                        }
                        default -> throw new BadRequestException("format \"" + format + "\" is not json, md or html");
                    }
                }),
                Route.of("GET", "/v1/dr/audits", TokenScope.READ, call -> call.json(200, audits(engine))),
                Route.of("POST", "/v1/dr/audits", TokenScope.ADMIN, call -> {
                    JsonNode body = parse(call.smallBody(MAX_AUDIT_BODY));
                    try {
                        RecoveryAudits.Audit a = engine.audits().record(engine.bunker().clock().instant(), text(body, "by"), text(body, "note"),
                                call.callerName());
                        call.json(201, a);
                    } catch (IllegalArgumentException e) {
                        throw new BadRequestException(e.getMessage());
                    }
                }));
    }

    /** The newest audits, the period one is expected in, and whether it is overdue. */
    public static Map<String, Object> audits(Engine engine) throws java.sql.SQLException {
        List<RecoveryAudits.Audit> recent = engine.audits().recent(20);
        var every = engine.bunker().config().dashboard().auditEvery();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("audits", recent);
        out.put("every", every == null ? "off" : Durations.format(every));
        // The same verdict as the dr-audit-stale alert (which counts a fresh install's period from when serve started watching).
        out.put("overdue", engine.alerts().list().stream().anyMatch(a -> a.firing() && a.name().equals("dr-audit-stale")));
        return out;
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode n = Json.MAPPER.readTree(text);
            if (n == null || !n.isObject()) throw new BadRequestException("the body must be a JSON object: {\"by\": \"NAME\", \"note\": \"...\"}");
            return n;
        } catch (IOException e) {
            throw new BadRequestException("the body is not JSON: expected {\"by\": \"NAME\", \"note\": \"...\"}");
        }
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new BadRequestException(field + " must be a string");
        return v.asText();
    }
}
