package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.json.Json;
import dev.bunker.StatusReport;
import dev.bunker.db.NodeRegistry;
import java.time.Clock;
import java.util.Map;
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
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
            StatusReport r = StatusReport.of(engine);
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return 0;
            }
            System.out.printf("objects: %s%n", r.objects());
            System.out.printf("queue:   %d waiting, %d failed (bunker retry re-drives them), oldest waiting %ss%n",
                    r.replication().depth(), r.replication().failed(), r.replication().oldestPendingSeconds());
            System.out.println("copies:");
            r.copies().forEach((store, states) -> System.out.printf("  %-12s %s%n", store, withBytes(states, r.copyBytes().getOrDefault(store, Map.of()))));
            System.out.printf("lifecycle: %s; next purge %s; deletion brake %s%n", r.lifecycle().objects(),
                    r.lifecycle().nextPurge() == null ? "none due" : r.lifecycle().nextPurge(), r.lifecycle().deletionBrake());
            System.out.println("last backups: " + r.backups());
            System.out.println("last successful drills: " + r.drills());
            for (var w : r.wal()) {
                System.out.printf("%s of %s: %s, stored up to %s (received %s, %s %.1f s)%s%s%n", w.binlog() ? "binary log" : "WAL", w.source(),
                        w.archive() ? "pushed by archive_command" : w.streaming() ? "streaming" : "NOT streaming", w.durableLsn(), w.durableAt(),
                        w.archive() ? "stored in" : "waited",
                        w.lagSeconds() == null ? 0.0 : w.lagSeconds(),
                        w.retainedBytes() == null ? "" : String.format(", slot %s keeps %.1f MB", w.slot(), w.retainedBytes() / 1e6),
                        w.lastError() == null ? "" : "; last error at " + w.errorAt() + ": " + w.lastError());
                if (w.gapAt() != null) {
                    System.out.printf("  GAP: the %s of %s from %s to %s was never stored (found %s); a %s taken after it makes later "
                            + "times restorable%n", w.binlog() ? "binary log" : "WAL", w.source(), w.gapFrom(), w.gapTo(), w.gapAt(),
                            w.binlog() ? "dump" : "base backup");
                }
            }
            System.out.println("alerts firing: " + (r.alertsFiring().isEmpty() ? "none" : ""));
            r.alertsFiring().forEach(a -> System.out.println("  " + a));
            System.out.println("stores:");
            r.stores().forEach((store, h) -> System.out.printf("  %-12s %s%n", store,
                    h.healthy() ? "ok (" + h.latencyMillis() + " ms)" : "FAILING: " + h.error()));
            System.out.println("processes: " + (r.nodes().isEmpty() ? "none serving" : ""));
            for (NodeRegistry.Node n : r.nodes()) System.out.printf("  %s pid %d %s (since %s)%n", n.host(), n.pid(), n.listen(), n.startedAt());
            return 0;
        }
    }

    /** {@code verified 12 (3.4 MB), pending 1 (0.0 MB)}: a count per state with the bytes of those copies. */
    static String withBytes(Map<String, Long> counts, Map<String, Long> bytes) {
        StringBuilder out = new StringBuilder();
        counts.forEach((state, n) -> out.append(out.isEmpty() ? "" : ", ")
                .append(String.format("%s %d (%.1f MB)", state, n, bytes.getOrDefault(state, 0L) / 1e6)));
        return out.toString();
    }
}
