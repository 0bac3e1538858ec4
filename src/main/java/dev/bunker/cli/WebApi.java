package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.history.Series;
import dev.bunker.web.BackupRoutes;
import dev.bunker.web.DashboardRoutes;
import dev.bunker.web.ExportRoutes;
import dev.bunker.web.HttpApi;
import dev.bunker.web.LifecycleRoutes;
import dev.bunker.web.ObjectRoutes;
import dev.bunker.web.QueueRoutes;
import dev.bunker.web.RecoveryRoutes;
import dev.bunker.web.Sessions;
import dev.bunker.web.StatusRoutes;
import dev.bunker.web.SystemRoutes;
import dev.bunker.web.Tokens;

/** Every route {@code serve} answers, on one {@link HttpApi}: the API under /v1 (bearer tokens) and the dashboard (its sessions). */
public final class WebApi {
    private WebApi() {}

    /** Not started: the caller adds what is optional (WAL pushes) and starts it. */
    public static HttpApi open(Engine engine, Tokens tokens, Series history) {
        Sessions sessions = new Sessions(engine.bunker().config().dashboard().session(), engine.bunker().clock());
        return new HttpApi(engine.bunker().config().listen(), tokens, 200).sessions(sessions, java.util.Set.of("/v1/jobs/retry", "/v1/dr/audits"))
                .add(SystemRoutes.of(engine.bunker())).add(StatusRoutes.of(engine, history))
                .add(LifecycleRoutes.of(engine.lifecycle(), engine.replication().keyLimits())).add(ObjectRoutes.of(engine.replication()))
                .add(QueueRoutes.of(engine.replication().jobs())).add(BackupRoutes.of(engine.backups()))
                .add(RecoveryRoutes.of(engine)).add(ExportRoutes.of(engine.exports())).add(DashboardRoutes.of(tokens, sessions));
    }
}
