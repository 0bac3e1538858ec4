package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.replication.Ingest;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ObjectReads;
import dev.bunker.replication.Replication;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Objects: upload ({@code PUT}), announce an object the app put in the primary itself
 * ({@code POST .../replicate}), read with failover ({@code GET}/{@code HEAD}) and list copies.
 * Keys are path-encoded; encode '/' as %2F when a key itself ends in /copies or /replicate.
 */
public final class ObjectRoutes {
    private ObjectRoutes() {}

    public static List<Route> of(Replication replication) {
        return List.of(
                Route.of("GET", "/v1/objects/(?<key>.+)/copies", TokenScope.READ, call -> copies(replication, call)),
                Route.of("POST", "/v1/objects/(?<key>.+)/replicate", TokenScope.WRITE, call -> announce(replication, call)),
                Route.of("PUT", "/v1/objects/(?<key>.+)", TokenScope.WRITE, call -> put(replication, call)),
                Route.of("GET", "/v1/objects/(?<key>.+)", TokenScope.READ, call -> get(replication, call)));
    }

    private static void put(Replication r, Call call) throws IOException {
        try {
            Ingest.Stored s = r.ingest().put(call.param("key"), call.body(), call.contentLength(),
                    call.header("x-bunker-sha256"), call.header("Content-MD5"));
            call.json(s.created() ? 201 : 200, stored(s));
        } catch (Ingest.Rejected e) {
            drain(call.body());
            call.error(e.status(), e.getMessage());
        } catch (SQLException e) {
            throw new IOException("database error: " + e.getMessage(), e);
        }
    }

    private static void announce(Replication r, Call call) throws IOException {
        try {
            Ingest.Stored s = r.ingest().announce(call.param("key"), call.header("x-bunker-sha256"));
            call.json(s.created() ? 201 : 200, stored(s));
        } catch (Ingest.Rejected e) {
            call.error(e.status(), e.getMessage());
        } catch (SQLException e) {
            throw new IOException("database error: " + e.getMessage(), e);
        }
    }

    private static void get(Replication r, Call call) throws IOException {
        try {
            String key = call.param("key");
            if (call.method().equals("HEAD")) {
                Ledger.ObjectRow o = r.reads().head(key);
                call.setHeader("Content-Type", "application/octet-stream");
                call.setHeader("x-bunker-sha256", o.sha256());
                call.empty(200, o.size());
                return;
            }
            ObjectReads.Opened o = r.reads().open(key);
            call.setHeader("x-bunker-sha256", o.sha256());
            call.setHeader("x-bunker-served-from", o.store());
            try (InputStream in = o.body()) {
                call.stream(200, "application/octet-stream", o.size(), in);
            }
        } catch (SQLException e) {
            throw new IOException("database error: " + e.getMessage(), e);
        }
    }

    private static void copies(Replication r, Call call) throws IOException {
        try {
            String key = call.param("key");
            r.reads().head(key);
            List<Map<String, Object>> out = new ArrayList<>();
            for (Ledger.CopyRow c : r.ledger().copies(key)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("store", c.store());
                m.put("state", c.state());
                m.put("verifiedAt", c.verifiedAt());
                m.put("retainUntil", c.retainUntil());
                m.put("legalHold", c.legalHold());
                if (c.lastError() != null) m.put("lastError", c.lastError());
                out.add(m);
            }
            call.json(200, Map.of("key", key, "copies", out));
        } catch (SQLException e) {
            throw new IOException("database error: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> stored(Ingest.Stored s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", s.key());
        m.put("size", s.size());
        m.put("sha256", s.sha256());
        return m;
    }

    /** Reads what is left of a rejected body, so the client gets the answer instead of a reset connection. */
    private static void drain(InputStream body) {
        try {
            body.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the client went away
        }
    }
}
