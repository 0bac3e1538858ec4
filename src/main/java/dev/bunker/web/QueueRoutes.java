package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.replication.ReplicationJobs;
import java.util.List;
import java.util.Map;

/** The replication queue's failed jobs: {@code GET /v1/jobs/failed} (their last errors) and {@code POST /v1/jobs/retry} (admin). */
public final class QueueRoutes {
    static final int MAX_LISTED = 500;

    private QueueRoutes() {}

    public static List<Route> of(ReplicationJobs jobs) {
        return List.of(
                Route.of("GET", "/v1/jobs/failed", TokenScope.READ, call -> {
                    call.json(200, Map.of("failed", jobs.failed(call.limit("limit", 50, MAX_LISTED))));
                }),
                Route.of("POST", "/v1/jobs/retry", TokenScope.ADMIN, call -> {
                    String key = call.query().get("key");
                    if (key != null && key.isEmpty()) throw new BadRequestException("key is empty; leave it out to retry every failed job");
                    call.json(200, Map.of("requeued", jobs.retryFailed(key)));
                }));
    }
}
