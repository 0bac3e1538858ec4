package dev.bunker.drill;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ReplicationStatus;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Recovery point and recovery time per disaster scenario, computed from what Bunker has actually
 * done (copies verified in the ledger, backups taken, drills passed), not from what it is configured
 * to do. An unknown figure says which drill or job would make it known.
 */
public final class RecoveryReport {
    /** One scenario: what would be lost (RPO) and how long until service is back (RTO), with the evidence. */
    public record Scenario(String name, String rpo, String rto, String evidence) {}

    private RecoveryReport() {}

    /**
     * The scenarios from the ledger's copies, the replication status, the drills run, each source's newest backups
     * ({@code lastBackups}: source, kind, when) and, for sources with pitr, when their streamed WAL was last stored
     * ({@code walStoredAt}: source, when; the database's RPO is then the WAL lag, not the age of a dump).
     */
    public static List<Scenario> compute(BunkerConfig config, Instant now, Ledger ledger, ReplicationStatus.Snapshot rep, DrillRuns runs,
                                         Map<String, Map<String, Instant>> lastBackups, Map<String, Instant> walStoredAt) throws SQLException {
        List<Scenario> out = new ArrayList<>();

        String primary = config.replication().primary();
        DrillRuns.Run failover = latest(runs, "failover");
        out.add(new Scenario("primary store '" + primary + "' unavailable",
                ledger.keptWithoutVerifiedCopyOutside(List.of(primary)) + " objects have no verified copy elsewhere (replication lag "
                        + seconds(rep.oldestPendingSeconds()) + ")",
                failover == null ? "unknown: run `bunker drill failover`"
                        : failover.ok() ? "about 0: reads fail over automatically (" + failover.checks().get(0).detail() + ")"
                        : "reads fail: the last failover drill failed (" + failover.finishedAt() + ")",
                "ledger copies; failover drill " + (failover == null ? "never run" : "of " + failover.finishedAt())));

        for (StoreConfig s : config.stores().values()) {
            if (s.name().equals(primary)) continue;
            out.add(new Scenario("store '" + s.name() + "' (" + s.tier().name().toLowerCase() + ") lost for good",
                    ledger.keptWithoutVerifiedCopyOutside(List.of(s.name())) + " objects would have no verified copy left",
                    "0 for reads (the primary serves); re-replicate with `bunker reconcile` to a replacement store",
                    "ledger copies"));
        }

        List<String> locked = config.stores().values().stream().filter(s -> s.lock() != null).map(StoreConfig::name).toList();
        out.add(new Scenario("attacker or rogue code deletes everything it can reach",
                locked.isEmpty() ? "everything: no store keeps an Object Lock"
                        : ledger.keptWithoutVerifiedCopyOn(locked) + " objects have no verified copy under lock in " + locked,
                locked.isEmpty() ? "no recovery" : "restore from " + locked + " (reads fail over to it)",
                "ledger copies with retain-until; COMPLIANCE locks refuse deletes until they expire"));

        if (config.backups().enabled()) {
            Instant newest = null;
            StringBuilder wal = new StringBuilder();
            for (Map.Entry<String, Map<String, Instant>> source : lastBackups.entrySet()) {
                var s = config.backups().sources().get(source.getKey());
                if (s != null && (s.pitr() != null || s.binlog() != null)) {
                    String log = s.pitr() != null ? "WAL" : "binary log";
                    Instant stored = walStoredAt.get(source.getKey());
                    wal.append(wal.isEmpty() ? "" : "; ").append(source.getKey()).append(": ").append(stored == null ? "no " + log + " stored yet"
                            : "changes since " + stored + " (" + seconds(Duration.between(stored, now).toSeconds()) + " ago, the " + log + " stored last)");
                    continue;
                }
                for (Instant t : source.getValue().values()) if (t != null && (newest == null || t.isAfter(newest))) newest = t;
            }
            String dumps = newest == null ? (wal.isEmpty() ? "everything: no backup taken yet" : "")
                    : "changes since " + newest + " (" + seconds(Duration.between(newest, now).toSeconds()) + " ago)";
            DrillRuns.Run db = latestOk(runs, "db");
            out.add(new Scenario("database lost (between backups)",
                    wal.isEmpty() ? dumps : wal + (dumps.isEmpty() ? "" : "; sources without pitr: " + dumps),
                    db == null ? "unknown: no successful `bunker drill db` yet"
                            : String.format("%.0f s to start a server and restore (drill of %s, backup %s)", db.restoreSeconds(), db.finishedAt(), db.backupId()),
                    "backup catalog; database drills"));
        } else {
            out.add(new Scenario("database lost (between backups)", "everything: no backups configured", "no recovery", "backups.sources is empty"));
        }
        return out;
    }

    private static DrillRuns.Run latest(DrillRuns runs, String kind) throws SQLException {
        List<DrillRuns.Run> last = runs.history(kind, 1);
        return last.isEmpty() ? null : last.get(0);
    }

    private static DrillRuns.Run latestOk(DrillRuns runs, String kind) throws SQLException {
        for (DrillRuns.Run r : runs.history(kind, 50)) if (r.ok()) return r;
        return null;
    }

    private static String seconds(double s) {
        if (s < 120) return String.format("%.0f s", s);
        if (s < 7200) return String.format("%.0f min", s / 60);
        return String.format("%.1f h", s / 3600);
    }
}
