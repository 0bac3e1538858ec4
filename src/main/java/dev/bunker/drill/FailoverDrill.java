package dev.bunker.drill;

import dev.bunker.drill.DrillRuns.Check;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ObjectReads;
import dev.bunker.store.Sha256;
import java.io.InputStream;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/** Failover rehearsal: serves a sample of reads with the primary store treated as down, and reports the success rate and latency. */
public final class FailoverDrill {
    private final Ledger ledger;
    private final ObjectReads reads;
    private final String primary;
    private final DrillRuns runs;
    private final Clock clock;

    public FailoverDrill(Ledger ledger, ObjectReads reads, String primary, DrillRuns runs, Clock clock) {
        this.ledger = ledger;
        this.reads = reads;
        this.primary = primary;
        this.runs = runs;
        this.clock = clock;
    }

    public DrillRuns.Run run(int sample) throws SQLException {
        Instant started = clock.instant();
        List<String> keys = ledger.sampleLive(sample).stream().map(Ledger.Sampled::key).toList();
        List<Long> micros = new ArrayList<>();
        List<Check> failures = new ArrayList<>();
        for (String key : keys) {
            long t0 = System.nanoTime();
            try {
                ObjectReads.Opened o = reads.open(key, Set.of(primary));
                try (InputStream in = o.body()) {
                    if (!Sha256.hexOf(in).equals(o.sha256())) throw new IllegalStateException("wrong bytes from " + o.store());
                }
                micros.add((System.nanoTime() - t0) / 1000);
            } catch (Exception e) {
                failures.add(new Check(key, false, e.getMessage()));
            }
        }
        Collections.sort(micros);
        double rate = keys.isEmpty() ? 1.0 : (double) micros.size() / keys.size();
        String latency = micros.isEmpty() ? "no successful reads" : String.format("p50 %.1f ms, p95 %.1f ms, max %.1f ms",
                micros.get(micros.size() / 2) / 1000.0, micros.get((int) Math.min(micros.size() - 1, Math.round(micros.size() * 0.95))) / 1000.0,
                micros.get(micros.size() - 1) / 1000.0);
        List<Check> checks = new ArrayList<>();
        checks.add(new Check("reads with '" + primary + "' down", failures.isEmpty(),
                String.format("%d of %d served from replicas (%.1f%%); %s", micros.size(), keys.size(), rate * 100, latency)));
        checks.addAll(failures);
        return runs.record(new DrillRuns.Run(0, "failover", started, clock.instant(), failures.isEmpty(), null, null, null, checks,
                checks.get(0).detail()));
    }
}
