package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.pitr.WalPush;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code PUT /v1/wal/{source}/{segment}}: a finished WAL segment from the source's archive_command (wal: archive). Only a
 * wal-push token of that source may call it, and it may call nothing else; 201 means the segment is in every backup store.
 */
public final class WalRoutes {
    private WalRoutes() {}

    public static List<Route> of(WalPush push) {
        return List.of(Route.of("PUT", "/v1/wal/(?<source>[^/]+)/(?<file>[^/]+)", TokenScope.WAL_PUSH, call -> {
            String source = call.param("source");
            if (!source.equals(call.caller().source())) {
                call.error(403, "token '" + call.caller().name() + "' pushes the WAL of source " + call.caller().source() + ", not of " + source);
                return;
            }
            WalPush.Pushed p = push.push(source, call.param("file"), call.body(), call.contentLength());
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("source", source);
            if (p.history() != null) {
                body.put("history", call.param("file"));
                body.put("systemId", p.history().systemId());
            } else {
                body.put("segment", p.chunk().segment());
                body.put("systemId", p.chunk().systemId());
                body.put("storedBytes", p.chunk().size());
            }
            body.put("seconds", p.seconds());
            call.json(201, body);
        }));
    }
}
