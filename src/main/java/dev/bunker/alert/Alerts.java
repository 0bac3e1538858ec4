package dev.bunker.alert;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;
import dev.bunker.Periodic;
import dev.bunker.db.AdvisoryLock;
import dev.bunker.backup.Backups;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.Durations;
import dev.bunker.drill.DatabaseDrill;
import dev.bunker.drill.Drills;
import dev.bunker.recovery.RecoveryAudits;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.replication.Replication;
import dev.bunker.replication.ReplicationStatus;
import dev.bunker.store.StoreHealth;
import io.micrometer.core.instrument.Gauge;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alert rules, evaluated every {@code alerts.every}: a database drill or a backup that has gone
 * stale, replication lag, failed replication jobs, a store unhealthy for too long, a tripped purge
 * brake. A rule that starts failing fires (webhook POST, {@code GET /v1/alerts}, metrics) and clears
 * itself when healthy again. State lives in the database so every process agrees; an advisory lock
 * lets one process at a time evaluate and notify.
 */
public final class Alerts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Alerts.class);
    static final String ALL = "select name, firing, since, message, notified_at, resolved_at from alerts order by firing desc, since desc";
    static final String FIRE = """
            insert into alerts (name, firing, since, message, notified_at, resolved_at) values (?, true, ?, ?, ?, null)
            on conflict (name) do update set firing = true, since = excluded.since, message = excluded.message,
                notified_at = excluded.notified_at, resolved_at = null
            """;
    static final String STILL = "update alerts set message = ? where name = ?";
    static final String RESOLVE = "update alerts set firing = false, resolved_at = ? where name = ?";

    /** One alert as stored. */
    public record Alert(String name, boolean firing, Instant since, String message, Instant notifiedAt, Instant resolvedAt) {}

    private final BunkerConfig config;
    private final AlertsConfig rules;
    private final DataSource db;
    private final Clock clock;
    private final Supplier<List<StoreHealth.Result>> storeHealth;
    private final Replication replication;
    private final Lifecycle lifecycle;
    private final Backups backups;
    private final Drills drills;
    private final dev.bunker.pitr.WalLedger wal;
    private final Webhooks webhooks;
    private final Instant reference;
    private final Map<String, Instant> unhealthySince = new ConcurrentHashMap<>();
    private volatile int firingCount;
    private ScheduledExecutorService schedule;

    /** The rules read the parts' state; {@code storeHealth} probes every store. */
    public Alerts(BunkerConfig config, DataSource db, Clock clock, MeterRegistry metrics, Supplier<List<StoreHealth.Result>> storeHealth,
                  Replication replication, Lifecycle lifecycle, Backups backups, Drills drills, dev.bunker.pitr.WalLedger wal) {
        this.storeHealth = storeHealth;
        this.wal = wal;
        this.config = config;
        this.rules = config.alerts();
        this.db = db;
        this.clock = clock;
        this.replication = replication;
        this.lifecycle = lifecycle;
        this.backups = backups;
        this.drills = drills;
        this.webhooks = new Webhooks(rules.webhooks());
        this.reference = clock.instant(); // "never succeeded" is measured from when this process started watching
        Gauge.builder("bunker_alerts_firing", () -> firingCount).description("alerts firing now").register(metrics);
    }

    /**
     * Puts alert {@code name} when {@code last} (null: never, counted from when this process started watching) is more than
     * {@code within} ago: "{@code never}{@code advice}" or "{@code since} LAST{@code advice}".
     */
    private void notSince(Map<String, String> out, Instant now, String name, Instant last, Duration within, String never, String since, String advice) {
        if (Duration.between(last == null ? reference : last, now).compareTo(within) > 0) {
            out.put(name, (last == null ? never : since + " " + last) + advice);
        }
    }

    /** The conditions failing now: alert name to message. */
    Map<String, String> failing() throws SQLException {
        Instant now = clock.instant();
        Map<String, String> out = new LinkedHashMap<>();
        if (config.drills().dbEnabled()) {
            notSince(out, now, "db-drill-stale", drills.runs().lastSuccess(DatabaseDrill.KIND), rules.drillStaleAfter(), "no successful database drill yet",
                    "no successful database drill since", " (threshold " + Durations.format(rules.drillStaleAfter()) + "); see `bunker drill history`");
        }
        if (config.drills().dbEnabled() && Drills.physicalSource(config) != null) {
            notSince(out, now, "db-physical-drill-stale", drills.runs().lastSuccess(DatabaseDrill.PHYSICAL_KIND), rules.drillStaleAfter(),
                    "no successful drill of a physical backup yet", "no successful drill of a physical backup since", " (threshold "
                    + Durations.format(rules.drillStaleAfter()) + "); see `bunker drill history --kind db-physical`");
        }
        Duration auditEvery = config.dashboard().auditEvery();
        if (auditEvery != null) {
            notSince(out, now, "dr-audit-stale", new RecoveryAudits(db).last(), auditEvery, "no recovery audit recorded yet", "no recovery audit since",
                    " (one is expected every " + Durations.format(auditEvery) + "): go through `bunker dr runbook`, then `bunker dr audit --by NAME`");
        }
        for (var source : backups.lastBackups().entrySet()) {
            for (var kind : source.getValue().entrySet()) {
                Duration every = config.backups().every(source.getKey(), kind.getKey());
                Duration limit = Duration.ofMillis((long) (every.toMillis() * rules.backupStaleFactor()));
                Instant since = kind.getValue() == null ? reference : kind.getValue();
                if (Duration.between(since, now).compareTo(limit) > 0) {
                    out.put("backup-stale:" + source.getKey() + "/" + kind.getKey(), "no " + kind.getKey() + " backup of " + source.getKey()
                            + (kind.getValue() == null ? " yet" : " since " + kind.getValue()) + "; the schedule is every " + Durations.format(every));
                }
            }
        }
        walRules(now, out);
        binlogRules(now, out);
        ReplicationStatus.Snapshot s = replication.status().read();
        if (s.oldestPendingSeconds() > rules.replicationLagAbove().toSeconds()) {
            out.put("replication-lag", String.format("the oldest unreplicated object has waited %.0f s (threshold %s)", s.oldestPendingSeconds(),
                    Durations.format(rules.replicationLagAbove())));
        }
        if (s.failedJobs() > rules.failedJobsAbove()) {
            out.put("replication-failed-jobs", s.failedJobs() + " replication jobs failed for good; `bunker status` and `bunker retry`");
        }
        for (StoreHealth.Result h : storeHealth.get()) {
            if (h.ok()) {
                unhealthySince.remove(h.store());
                continue;
            }
            Instant since = unhealthySince.computeIfAbsent(h.store(), k -> now);
            if (Duration.between(since, now).compareTo(rules.storeUnhealthyFor()) >= 0) {
                out.put("store-unhealthy:" + h.store(), "store '" + h.store() + "' failing since " + since + ": " + h.error());
            }
        }
        String brake = lifecycle.brake().trippedReason();
        if (brake != null) out.put("purge-brake", brake + "; review with `bunker purge --dry-run`, then `bunker purge --confirm CODE`");
        return out;
    }

    /**
     * For each source with point-in-time recovery: WAL not stored for longer than {@code wal-lag-above} (the stream is down,
     * stuck or behind; a quiet source is marked every 30 s, so quiet is not late; with wal: archive, the server's own
     * pg_stat_archiver tells a quiet server from a failing archive_command), WAL never stored (a gap) with no base backup
     * taken since, and a slot keeping more WAL on the source
     * than {@code wal-retained-above} (its disk fills while Bunker cannot store).
     */
    private void walRules(Instant now, Map<String, String> out) throws SQLException {
        Map<String, dev.bunker.pitr.WalLedger.Row> rows = new LinkedHashMap<>();
        for (dev.bunker.pitr.WalLedger.Row r : wal.list()) rows.put(r.source(), r);
        for (BunkerConfig.BackupSource source : config.backups().sources().values()) {
            if (source.pitr() == null) continue;
            dev.bunker.pitr.WalLedger.Row r = rows.get(source.name());
            Instant since = r == null || r.durableAt() == null ? reference : r.durableAt();
            if (Duration.between(since, now).compareTo(rules.walLagAbove()) > 0) {
                out.put("wal-lag:" + source.name(), (r == null || r.durableAt() == null ? "no WAL of " + source.name() + " stored yet"
                        : "no WAL of " + source.name() + " stored since " + r.durableAt()) + " (threshold " + Durations.format(rules.walLagAbove()) + ")"
                        + (r != null && r.lastError() != null ? "; last error at " + r.errorAt() + ": " + r.lastError() : "")
                        + (source.pitr().archive() ? "; is the server's archive_command (bin/bunker wal push) succeeding, and serve running? "
                        + "`bunker status` shows what the server last said" : "; is serve running? `bunker status` shows the stream"));
            } else if (r != null && r.lagSeconds() != null && r.lagSeconds() > rules.walLagAbove().toSeconds()) {
                out.put("wal-lag:" + source.name(), String.format("WAL of %s waited %.0f s to be stored (threshold %s)", source.name(), r.lagSeconds(),
                        Durations.format(rules.walLagAbove())));
            }
            if (r != null && r.gapAt() != null) {
                Instant base = backups.lastBackups().getOrDefault(source.name(), Map.of()).get("base");
                if (base == null || base.isBefore(r.gapAt())) {
                    out.put("wal-gap:" + source.name(), "the WAL of " + source.name() + " from " + r.gapFrom() + " to " + r.gapTo() + " was never stored "
                            + "(found " + r.gapAt() + ": its replication slot was made again); no restore crosses it, and times after it need a "
                            + "base backup taken after it: bunker db backup --kind base --source " + source.name());
                }
            }
            if (r != null && r.retainedBytes() != null && r.retainedBytes() > rules.walRetainedAbove()) {
                out.put("wal-retained:" + source.name(), String.format("replication slot %s keeps %s of WAL on %s (threshold %s): Bunker is "
                        + "not storing it fast enough (see wal-lag:%s and `bunker status`); to retire this source's point-in-time recovery, remove its "
                        + "pitr, restart serve and drop the slot: bunker db slots --source %s --drop %s", r.slot(), megabytes(r.retainedBytes()), source.name(),
                        megabytes(rules.walRetainedAbove()), source.name(), source.name(), r.slot()));
            }
        }
    }

    private static String megabytes(long bytes) {
        return String.format("%,.1f MB", bytes / 1e6);
    }

    /**
     * MariaDB sources with binlog: no binary log stored for longer than {@code wal-lag-above} (the server's own quiet
     * periods count as stored: the stream checks the server's position), and a stretch the server purged before it was stored.
     */
    private void binlogRules(Instant now, Map<String, String> out) throws SQLException {
        Map<String, dev.bunker.pitr.WalLedger.Row> rows = new LinkedHashMap<>();
        for (dev.bunker.pitr.WalLedger.Row r : wal.list()) rows.put(r.source(), r);
        for (BunkerConfig.BackupSource source : config.backups().sources().values()) {
            if (source.binlog() == null) continue;
            dev.bunker.pitr.WalLedger.Row r = rows.get(source.name());
            Instant since = r == null || r.durableAt() == null ? reference : r.durableAt();
            if (Duration.between(since, now).compareTo(rules.walLagAbove()) > 0) {
                out.put("binlog-lag:" + source.name(), (r == null || r.durableAt() == null ? "no binary log of " + source.name() + " stored yet"
                        : "no binary log of " + source.name() + " stored since " + r.durableAt()) + " (threshold " + Durations.format(rules.walLagAbove()) + ")"
                        + (r != null && r.lastError() != null ? "; last error at " + r.errorAt() + ": " + r.lastError() : "; is serve running?"));
            }
            if (r != null && r.gapAt() != null) {
                Instant dump = backups.lastBackups().getOrDefault(source.name(), Map.of()).get("dump");
                if (dump == null || dump.isBefore(r.gapAt())) {
                    out.put("binlog-gap:" + source.name(), "the binary log of " + source.name() + " from " + r.gapFrom() + " to " + r.gapTo()
                            + " was never stored (the server purged it first, found " + r.gapAt() + "); no restore to a time crosses it, and times "
                            + "after it need a dump taken after it: bunker db backup --source " + source.name());
                }
            }
        }
    }

    /** Evaluates the rules, records changes and notifies the webhooks; false if another process is evaluating now. */
    public boolean evaluate() throws SQLException {
        return AdvisoryLock.tryWith(db, "bunker.alerts", "", () -> {
            try (Connection c = db.getConnection()) {
                evaluate(c);
            }
            return true;
        }).isPresent();
    }

    private void evaluate(Connection c) throws SQLException {
        Map<String, String> now = failing();
        Map<String, Alert> known = new LinkedHashMap<>();
        for (Alert a : list()) known.put(a.name(), a);
        Instant at = clock.instant();
        for (Map.Entry<String, String> f : now.entrySet()) {
            Alert old = known.get(f.getKey());
            if (old != null && old.firing()) {
                update(c, STILL, f.getValue(), f.getKey());
                continue;
            }
            boolean sent = notify(f.getKey(), "firing", f.getValue(), at);
            try (PreparedStatement ps = c.prepareStatement(FIRE)) {
                ps.setString(1, f.getKey());
                ps.setTimestamp(2, Timestamp.from(at));
                ps.setString(3, f.getValue());
                ps.setTimestamp(4, sent ? Timestamp.from(at) : null);
                ps.executeUpdate();
            }
            LOG.warn("ALERT {}: {}", f.getKey(), f.getValue());
        }
        for (Alert a : known.values()) {
            if (!a.firing() || now.containsKey(a.name())) continue;
            notify(a.name(), "resolved", a.message(), at);
            try (PreparedStatement ps = c.prepareStatement(RESOLVE)) {
                ps.setTimestamp(1, Timestamp.from(at));
                ps.setString(2, a.name());
                ps.executeUpdate();
            }
            LOG.info("alert {} resolved", a.name());
        }
        firingCount = now.size();
    }

    private boolean notify(String name, String status, String message, Instant at) {
        if (rules.webhooks().isEmpty()) return true;
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("alert", name);
        event.put("status", status);
        event.put("message", message);
        event.put("at", at.toString());
        event.put("source", "bunker");
        return webhooks.send(event);
    }

    private static void update(Connection c, String sql, String a, String b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a);
            ps.setString(2, b);
            ps.executeUpdate();
        }
    }

    /** Every alert known: firing ones first, then resolved. */
    public List<Alert> list() throws SQLException {
        List<Alert> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ALL); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Alert(rs.getString(1), rs.getBoolean(2), rs.getTimestamp(3).toInstant(), rs.getString(4),
                        rs.getTimestamp(5) == null ? null : rs.getTimestamp(5).toInstant(), rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toInstant()));
            }
        }
        return out;
    }

    public void start() {
        schedule = Periodic.start("alerts", rules.every(), rules.every(), LOG, this::evaluate);
    }

    @Override
    public void close() {
        if (schedule != null) schedule.shutdownNow();
    }
}
