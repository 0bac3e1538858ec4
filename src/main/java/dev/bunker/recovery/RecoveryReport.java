package dev.bunker.recovery;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.drill.DrillRuns;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ReplicationStatus;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Recovery point and recovery time per disaster scenario, computed from what Bunker has actually
 * done (copies verified in the ledger, backups taken, drills passed), not from what it is configured
 * to do. An unknown figure says which drill or job would make it known.
 */
public final class RecoveryReport {
    /**
     * One scenario: its id (the runbook's section for it), what stops working meanwhile ({@code impact}), what would be lost
     * (RPO) and how long until service is back (RTO), when a drill or audit last proved it, and the evidence.
     */
    public record Scenario(String id, String name, String impact, String rpo, String rto, Instant lastProven, String evidence) {}

    private RecoveryReport() {}

    /** Where a store lives, for the "region lost" scenario: an S3 store's cloud and region, a local store's (or a loopback S3's) machine. */
    public static String site(StoreConfig s) {
        String cloud = cloud(s);
        if (s instanceof StoreConfig.S3 s3 && !cloud.equals(THIS_MACHINE)) return cloud + " " + (s3.region() == null ? "" : s3.region().toLowerCase(Locale.ROOT));
        return cloud;
    }

    static final String THIS_MACHINE = "this machine";

    /**
     * Whose cloud a store is in, for the "cloud lost" scenario: AWS for S3 without an endpoint or at amazonaws.com, else the
     * endpoint's domain (its last two labels: s3.eu-central-1.wasabisys.com is wasabisys.com); a local store, or an S3
     * server on a loopback address, is this machine.
     */
    public static String cloud(StoreConfig s) {
        if (!(s instanceof StoreConfig.S3 s3)) return THIS_MACHINE;
        if (s3.endpoint() == null || s3.endpoint().getHost() == null) return "AWS";
        String host = s3.endpoint().getHost().toLowerCase(Locale.ROOT);
        if (host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1")) return THIS_MACHINE;
        if (host.equals("amazonaws.com") || host.endsWith(".amazonaws.com")) return "AWS";
        if (host.matches("[0-9.]+|\\[.*\\]")) return host; // an address names no provider
        String[] labels = host.split("\\.");
        return labels.length <= 2 ? host : labels[labels.length - 2] + "." + labels[labels.length - 1];
    }

    /** Every store in {@code lost} gone at once: what has no verified copy elsewhere; nothing left if that is every store. */
    private static Scenario siteLost(String id, String name, List<String> lost, BunkerConfig config, Ledger ledger, Instant failoverOk) throws SQLException {
        if (lost.size() == config.stores().size()) {
            return new Scenario(id, name, "everything: every store is there", "every object (no store is elsewhere)",
                    "no recovery: add a store in another region or cloud to the replication targets", null,
                    "stores grouped by endpoint and region");
        }
        return new Scenario(id, name, "as for the primary store, and the other stores there are gone too",
                ledger.keptWithoutVerifiedCopyOutside(lost) + " objects have no verified copy outside " + lost,
                failoverOk == null ? "unknown: run `bunker drill failover`" : "reads fail over to the stores elsewhere", failoverOk,
                "ledger copies by store; stores grouped by endpoint and region");
    }

    /**
     * The scenarios from the ledger's copies, the replication status, the drills run, each source's newest backups
     * ({@code lastBackups}: source, kind, when), for sources with pitr or binlog when their log was last stored
     * ({@code walStoredAt}: source, when; the database's RPO is then the log's lag, not the age of a dump), and the newest
     * recovery audit ({@code lastAudit}, null if none).
     */
    public static List<Scenario> compute(BunkerConfig config, Instant now, Ledger ledger, ReplicationStatus.Snapshot rep, DrillRuns runs,
                                         Map<String, Map<String, Instant>> lastBackups, Map<String, Instant> walStoredAt, Instant lastAudit)
            throws SQLException {
        List<Scenario> out = new ArrayList<>();

        String primary = config.replication().primary();
        DrillRuns.Run failover = latest(runs, "failover");
        DrillRuns.Run objects = latestOk(runs, "objects");
        Instant failoverOk = failover != null && failover.ok() ? failover.finishedAt() : null;
        out.add(new Scenario("primary-store", "primary store '" + primary + "' unavailable",
                "reads fail over to the replicas; uploads to '" + primary + "' fail until it is back or another store is made primary",
                ledger.keptWithoutVerifiedCopyOutside(List.of(primary)) + " objects have no verified copy elsewhere (replication lag "
                        + seconds(rep.oldestPendingSeconds()) + ")",
                failover == null ? "unknown: run `bunker drill failover`"
                        : failover.ok() ? "about 0: reads fail over automatically (" + failover.checks().get(0).detail() + ")"
                        : "reads fail: the last failover drill failed (" + failover.finishedAt() + ")",
                failoverOk, "ledger copies; failover drill " + (failover == null ? "never run" : "of " + failover.finishedAt())));

        // The primary's region (its endpoint and region, or this machine for local stores), then its whole cloud (endpoint).
        String primarySite = site(config.store(primary));
        List<String> sameSite = config.stores().values().stream().filter(s -> site(s).equals(primarySite)).map(StoreConfig::name).toList();
        out.add(siteLost("region", "the primary's region (" + primarySite.strip() + ") lost: stores " + sameSite, sameSite, config, ledger, failoverOk));
        String primaryCloud = cloud(config.store(primary));
        List<String> sameCloud = config.stores().values().stream().filter(s -> cloud(s).equals(primaryCloud)).map(StoreConfig::name).toList();
        if (!sameCloud.equals(sameSite)) {
            out.add(siteLost("cloud", "the primary's cloud (" + primaryCloud + ") lost: stores " + sameCloud, sameCloud, config, ledger, failoverOk));
        }

        for (StoreConfig s : config.stores().values()) {
            if (s.name().equals(primary)) continue;
            out.add(new Scenario("store-" + s.name(), "store '" + s.name() + "' (" + s.tier().name().toLowerCase() + ") lost for good",
                    "none for reads and uploads; one copy fewer until it is replaced",
                    ledger.keptWithoutVerifiedCopyOutside(List.of(s.name())) + " objects would have no verified copy left",
                    "0 for reads (the primary serves); re-replicate with `bunker reconcile` to a replacement store",
                    objects == null ? null : objects.finishedAt(), "ledger copies; object drill " + (objects == null ? "never passed" : "of " + objects.finishedAt())));
        }

        List<String> locked = config.stores().values().stream().filter(s -> s.lock() != null).map(StoreConfig::name).toList();
        out.add(new Scenario("deletion", "attacker or rogue code deletes everything it can reach",
                "what was deleted is unreadable until repaired from the locked store",
                locked.isEmpty() ? "everything: no store keeps an Object Lock"
                        : ledger.keptWithoutVerifiedCopyOn(locked) + " objects have no verified copy under lock in " + locked,
                locked.isEmpty() ? "no recovery" : "restore from " + locked + " (reads fail over to it)",
                locked.isEmpty() ? null : objects == null ? null : objects.finishedAt(),
                "ledger copies with retain-until; COMPLIANCE locks refuse deletes until they expire"));

        out.add(new Scenario("credentials", "an API token or a store credential is stolen",
                "none once rotated; until then the thief can read, and trash or delete within the deletion brake",
                locked.isEmpty() ? "what the thief deletes from every store" : "0 for objects with a locked copy (deletes cannot reach " + locked + ")",
                "the time to rotate: `bunker token create`, replace it in api.tokens, restart serve", lastAudit,
                "api.tokens scopes; recovery audit " + (lastAudit == null ? "never recorded" : "of " + lastAudit)));

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
            out.add(new Scenario("database", "database lost (between backups)", "the app is down until the database is restored",
                    wal.isEmpty() ? dumps : wal + (dumps.isEmpty() ? "" : "; sources without pitr: " + dumps),
                    db == null ? "unknown: no successful `bunker drill db` yet"
                            : String.format("%.0f s to start a server and restore (drill of %s, backup %s)", db.restoreSeconds(), db.finishedAt(), db.backupId()),
                    db == null ? null : db.finishedAt(), "backup catalog; database drills"));
        } else {
            out.add(new Scenario("database", "database lost (between backups)", "the app is down until the database is rebuilt", "everything: no backups configured",
                    "no recovery", null, "backups.sources is empty"));
        }
        out.add(new Scenario("bunker-database", "Bunker's own database lost", "replication and the API stop; the stores and their data are untouched",
                "0 objects (every copy is in the stores; the ledger is rebuilt from their listings)",
                "a reconcile of every store, and the backup catalog read back from the manifests", lastAudit,
                "stores are the truth; recovery audit " + (lastAudit == null ? "never recorded" : "of " + lastAudit)));
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
