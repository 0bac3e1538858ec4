package dev.bunker.web;

import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig.TokenScope;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/backups}: the catalog's backups, newest first (as {@code bunker db list} shows them: size, lock, keep,
 * which stores hold each; at most MAX_LISTED per source), when each source's scheduled kinds are next due, and
 * for sources with a streamed log the oldest backup a restore to a time can start from.
 */
public final class BackupRoutes {
    static final int MAX_LISTED = 100;

    /** One backup as the dashboard's timeline draws it. */
    public record Listed(String id, String source, String kind, Instant startedAt, Instant finishedAt, long sizeBytes, Instant retainUntil,
                         Instant keepUntil, List<String> stores, List<String> warnings) {}

    private BackupRoutes() {}

    public static List<Route> of(Backups backups) {
        return List.of(Route.of("GET", "/v1/backups", TokenScope.READ, call -> {
            List<Listed> listed = new ArrayList<>();
            Map<String, Integer> perSource = new LinkedHashMap<>();
            Map<String, Instant> restorableFrom = new LinkedHashMap<>();
            for (BackupCatalog.Entry e : backups.catalog().list()) { // newest first
                Manifest m = e.manifest();
                var source = backups.config().sources().get(m.source());
                // A restore to a time starts from a base backup (WAL) or a dump (binary log): the oldest kept one bounds the window.
                if (source != null && (source.pitr() != null && m.isBase() || source.binlog() != null && !m.isBase())) restorableFrom.put(m.source(), m.finishedAt());
                if (perSource.merge(m.source(), 1, Integer::sum) > MAX_LISTED) continue;
                listed.add(new Listed(m.id(), m.source(), m.kind(), m.startedAt(), m.finishedAt(), m.size(), m.retainUntil(), m.keepUntil(), e.stores(),
                        m.warnings()));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("backups", listed);
            body.put("nextDue", nextDue(backups));
            body.put("restorableFrom", restorableFrom);
            call.json(200, body);
        }));
    }

    /** Per source and scheduled kind: when the next backup is due (its newest finished plus every; null: now, none yet). */
    static Map<String, Map<String, Instant>> nextDue(Backups backups) throws java.sql.SQLException {
        Map<String, Map<String, Instant>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Instant>> s : backups.lastBackups().entrySet()) {
            Map<String, Instant> kinds = new LinkedHashMap<>();
            for (Map.Entry<String, Instant> k : s.getValue().entrySet()) {
                Duration every = backups.config().every(s.getKey(), k.getKey());
                kinds.put(k.getKey(), k.getValue() == null || every == null ? null : k.getValue().plus(every));
            }
            out.put(s.getKey(), kinds);
        }
        return out;
    }
}
