package dev.bunker;

import dev.bunker.alert.Alerts;
import dev.bunker.backup.Backups;
import dev.bunker.drill.Drills;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.pitr.WalLedger;
import dev.bunker.pitr.WalStreams;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.Replication;
import dev.bunker.replication.ReplicationJobs;
import javax.sql.DataSource;

/**
 * Every part of Bunker wired on an opened {@link Bunker}: replication, lifecycle, backups, drills and
 * alerts. {@code serve} starts their schedules; commands use the parts directly.
 */
public record Engine(Bunker bunker, Replication replication, Lifecycle lifecycle, Backups backups, Drills drills, Alerts alerts, WalLedger wal)
        implements AutoCloseable {

    public static Engine on(Bunker bunker) {
        Replication replication = replication(bunker);
        Lifecycle lifecycle = lifecycle(bunker);
        Backups backups = backups(bunker);
        Drills drills = drills(bunker, replication);
        WalLedger wal = new WalLedger(bunker.database().dataSource());
        Alerts alerts = new Alerts(bunker.config(), bunker.database().dataSource(), bunker.clock(), bunker.metrics(),
                () -> bunker.storeHealth(5_000), replication, lifecycle, backups, drills, wal);
        return new Engine(bunker, replication, lifecycle, backups, drills, alerts, wal);
    }

    /** Only the replication engine, for commands that need nothing else. The factories below are the one place parts meet a Bunker. */
    public static Replication replication(Bunker b) {
        return new Replication(b.config(), b.database().dataSource(), b.stores(), b.clock(), b.metrics());
    }

    public static Lifecycle lifecycle(Bunker b) {
        DataSource db = b.database().dataSource();
        return new Lifecycle(b.config(), db, b.stores(), b.clock(), b.metrics(), new Ledger(db), new ReplicationJobs(db, b.clock()));
    }

    /** Exports of objects back to their owners; reads through {@code replication}'s failover reads. */
    public static dev.bunker.export.Exports exports(Bunker b, Replication replication) {
        return new dev.bunker.export.Exports(b.database().dataSource(), b.stores(), b.config().replication().primary(), replication.keyLimits(),
                replication.reads(), b.clock(), b.config().dataDir());
    }

    public dev.bunker.export.Exports exports() {
        return exports(bunker, replication);
    }

    public static Backups backups(Bunker b) {
        return new Backups(b.config().backups(), b.config().dataDir(), b.database().dataSource(), b.stores(), b.clock(), b.database()::selfBackupUrl);
    }

    /** What stores the WAL segments pushed by archive_command (sources with pitr: {wal: archive}), if any source has it. */
    public static java.util.Optional<dev.bunker.pitr.WalPush> walPush(Bunker b) throws java.io.IOException {
        boolean any = b.config().backups().sources().values().stream().anyMatch(s -> s.pitr() != null && s.pitr().archive());
        if (!any) return java.util.Optional.empty();
        return java.util.Optional.of(new dev.bunker.pitr.WalPush(b.config().backups(),
                new dev.bunker.pitr.WalUploader(b.config().backups(), b.stores(), b.config().dataDir()), new WalLedger(b.database().dataSource()), b.clock()));
    }

    /** {@code serve}'s WAL streaming of the sources with point-in-time recovery (the signing key is created if there is none). */
    public static WalStreams walStreams(Bunker b) throws java.io.IOException {
        return new WalStreams(b.config().backups(), b.stores(), b.config().dataDir(), b.clock(), new WalLedger(b.database().dataSource()));
    }

    /** {@code serve}'s binary log streaming of the MariaDB sources with {@code binlog}. */
    public dev.bunker.binlog.BinlogStreams binlogStreams() throws java.io.IOException {
        return new dev.bunker.binlog.BinlogStreams(bunker.config().backups(), bunker.stores(), bunker.config().dataDir(), bunker.clock(),
                new WalLedger(bunker.database().dataSource()), backups.catalog());
    }

    public static Drills drills(Bunker b, Replication replication) {
        return new Drills(b.config(), b.database().dataSource(), b.stores(), b.clock(), b.metrics(), replication);
    }

    /** RPO and RTO per disaster scenario, from what the parts have done. */
    public java.util.List<dev.bunker.recovery.RecoveryReport.Scenario> recovery() throws java.sql.SQLException {
        return dev.bunker.recovery.RecoveryReport.compute(bunker.config(), bunker.clock().instant(), replication.ledger(),
                replication.status().read(), drills.runs(), backups.lastBackups(), walStoredAt(), audits().last());
    }

    /** The recovery audits recorded (the monthly walk through the runbook). */
    public dev.bunker.recovery.RecoveryAudits audits() {
        return new dev.bunker.recovery.RecoveryAudits(bunker.database().dataSource());
    }

    /**
     * The figures the dashboard charts, as {@link dev.bunker.history.Sampler} records them: the queue, verified copies and
     * trash from the ledger (shared by every serve), and what this process copied ({@code @node}: each serve records its own,
     * and the page adds their rates up).
     */
    public java.util.Map<String, Double> figures(String node) throws java.sql.SQLException {
        java.util.Map<String, Double> f = new java.util.LinkedHashMap<>();
        var rep = replication.status().read();
        f.put("queue.depth", (double) rep.queueDepth());
        f.put("queue.failed", (double) rep.failedJobs());
        f.put("queue.lag_seconds", rep.oldestPendingSeconds());
        f.put("objects", (double) rep.objects());
        f.put("copies.verified", (double) rep.copiesByStore().values().stream().mapToLong(m -> m.getOrDefault("verified", 0L)).sum());
        f.put("trash.objects", (double) lifecycle.status().objects().getOrDefault("trashed", 0L));
        f.put("alerts.firing", (double) alerts.list().stream().filter(dev.bunker.alert.Alerts.Alert::firing).count());
        var registry = bunker.metrics();
        f.put("copied.objects@" + node, registry.find("bunker_replication_objects_copied").counters().stream().mapToDouble(c -> c.count()).sum());
        f.put("copied.bytes@" + node, registry.find("bunker_replication_bytes_copied").counters().stream().mapToDouble(c -> c.count()).sum());
        return f;
    }

    private java.util.Map<String, java.time.Instant> walStoredAt() throws java.sql.SQLException {
        java.util.Map<String, java.time.Instant> out = new java.util.HashMap<>();
        for (WalLedger.Row r : wal.list()) if (r.durableAt() != null) out.put(r.source(), r.durableAt());
        return out;
    }

    /** Stops the parts' schedules and workers; the Bunker itself is closed by its owner. */
    @Override
    public void close() {
        alerts.close();
        drills.close();
        backups.close();
        lifecycle.close();
        replication.close();
    }
}
