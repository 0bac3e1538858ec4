package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.web.Json;
import dev.bunker.web.StatusRoutes;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker status}: what is replicated, what waits, what failed, which stores are healthy. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show objects by copy state per store, the replication queue and lag, failed jobs, store health and live processes.")
public final class StatusCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
            Map<String, Object> r = StatusRoutes.report(engine);
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return 0;
            }
            Map<String, Object> q = (Map<String, Object>) r.get("replication");
            System.out.printf("objects: %s%n", r.get("objects"));
            System.out.printf("queue:   %s waiting, %s failed (bunker retry re-drives them), oldest waiting %ss%n",
                    q.get("depth"), q.get("failed"), q.get("oldestPendingSeconds"));
            System.out.println("copies:");
            ((Map<String, Map<String, Long>>) r.get("copies")).forEach((store, states) -> System.out.printf("  %-12s %s%n", store, states));
            Map<String, Object> lc = (Map<String, Object>) r.get("lifecycle");
            System.out.printf("lifecycle: %s; next purge %s; purge brake %s%n", lc.get("objects"),
                    lc.get("nextPurge") == null ? "none due" : lc.get("nextPurge"), lc.get("purgeBrake"));
            System.out.println("last backups: " + r.get("backups"));
            System.out.println("last successful drills: " + r.get("drills"));
            List<String> firing = (List<String>) r.get("alertsFiring");
            System.out.println("alerts firing: " + (firing.isEmpty() ? "none" : ""));
            firing.forEach(a -> System.out.println("  " + a));
            System.out.println("stores:");
            ((Map<String, Map<String, Object>>) r.get("stores")).forEach((store, h) -> System.out.printf("  %-12s %s%n", store,
                    Boolean.TRUE.equals(h.get("healthy")) ? "ok (" + h.get("latencyMillis") + " ms)" : "FAILING: " + h.get("error")));
            List<Map<String, Object>> nodes = (List<Map<String, Object>>) r.get("nodes");
            System.out.println("processes: " + (nodes.isEmpty() ? "none serving" : ""));
            for (Map<String, Object> n : nodes) System.out.printf("  %s pid %s %s (since %s)%n", n.get("host"), n.get("pid"), n.get("listen"), n.get("startedAt"));
            return 0;
        }
    }
}
