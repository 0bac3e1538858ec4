package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.replication.Ingest;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ObjectReads;
import dev.bunker.replication.Replication;
import dev.bunker.store.ObjectKeys;
import dev.bunker.store.Sha256;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Objects: upload ({@code PUT}), announce an object the app put in the primary itself
 * ({@code POST .../replicate}), read with failover ({@code GET}/{@code HEAD}) and list copies.
 * Keys are path-encoded; encode '/' as %2F when a key itself ends in /copies or /replicate.
 * Every read carries the object's SHA-256 ({@code Repr-Digest}, {@code x-amz-checksum-sha256},
 * {@code x-bunker-sha256}) so clients can check the bytes themselves.
 */
public final class ObjectRoutes {
    private ObjectRoutes() {}

    public static List<Route> of(Replication replication) {
        ObjectKeys.Limits limits = replication.keyLimits();
        return List.of(
                Route.of("GET", "/v1/objects/(?<key>.+)/copies", TokenScope.READ, call -> copies(replication, call, key(call, limits))),
                Route.of("POST", "/v1/objects/(?<key>.+)/replicate", TokenScope.WRITE, call -> announce(replication, call, key(call, limits))),
                Route.of("PUT", "/v1/objects/(?<key>.+)", TokenScope.WRITE, call -> put(replication, call, key(call, limits))),
                Route.of("GET", "/v1/objects/(?<key>.+)", TokenScope.READ, call -> get(replication, call, key(call, limits))));
    }

    /** The {@code key} path parameter, decoded and checked against the key grammar before anything else happens. */
    static String key(Call call, ObjectKeys.Limits limits) {
        String key = call.param("key");
        String problem = ObjectKeys.appKeyProblem(key, limits);
        if (problem != null) throw new BadRequestException("invalid object key " + ObjectKeys.quote(key) + ": " + problem);
        return key;
    }

    private static void put(Replication r, Call call, String key) throws Exception {
        try {
            Ingest.Stored s = r.ingest().put(key, call.body(), call.contentLength(), call.header("x-bunker-sha256"), call.header("Content-MD5"));
            call.json(s.created() ? 201 : 200, stored(s));
        } catch (Ingest.Rejected e) {
            if (ClientBodyException.in(e) == null) drain(call.body());
            throw e;
        }
    }

    private static void announce(Replication r, Call call, String key) throws Exception {
        Ingest.Stored s = r.ingest().announce(key, call.header("x-bunker-sha256"));
        call.json(s.created() ? 201 : 200, stored(s));
    }

    private static void get(Replication r, Call call, String key) throws Exception {
        if (call.method().equals("HEAD")) {
            Ledger.ObjectRow o = r.reads().head(key);
            digestHeaders(call, o.sha256());
            call.setHeader("Content-Type", "application/octet-stream");
            call.empty(200, o.size());
            return;
        }
        ObjectReads.Opened o = r.reads().open(key);
        digestHeaders(call, o.sha256());
        call.setHeader("x-bunker-served-from", o.store());
        try (InputStream in = o.body()) {
            call.stream(200, "application/octet-stream", o.size(), in);
        }
    }

    private static void digestHeaders(Call call, String sha256Hex) {
        String b64 = Sha256.base64OfHex(sha256Hex);
        call.setHeader("Repr-Digest", "sha-256=:" + b64 + ":");
        call.setHeader("x-amz-checksum-sha256", b64);
        call.setHeader("x-bunker-sha256", sha256Hex);
    }

    private static void copies(Replication r, Call call, String key) throws Exception {
        r.reads().head(key);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Ledger.CopyRow c : r.ledger().copies(key)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("store", c.store());
            m.put("state", c.state());
            m.put("verifiedAt", c.verifiedAt());
            m.put("retainUntil", c.retainUntil());
            m.put("legalHold", c.legalHold());
            if (c.versionId() != null) m.put("versionId", c.versionId());
            if (c.lastError() != null) m.put("lastError", c.lastError());
            out.add(m);
        }
        call.json(200, Map.of("key", key, "copies", out));
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
        } catch (java.io.IOException ignored) {
            // the client went away
        }
    }
}
