package dev.bunker.backup;

import dev.bunker.Periodic;
import dev.bunker.db.AdvisoryLock;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Database backups of one process: taking, restoring, listing and pruning them, and (in serve) the
 * schedule: each source's dump and snapshot (and base backup, with pitr) are taken when the newest one
 * is older than its {@code every} (pitr's {@code base-every}), and pruning runs hourly. An advisory lock per source and kind keeps several
 * processes from taking the same backup twice.
 */
public final class Backups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Backups.class);

    private final BackupsConfig config;
    private final DataSource db;
    private final Clock clock;
    private final BackupCatalog catalog;
    private final TakeBackup take;
    private final RestoreBackup restore;
    private final PruneBackups prune;
    private ScheduledExecutorService schedule;
    private volatile Instant lastPrune = Instant.EPOCH;

    /** {@code dataDir}: temp files and the signing key; {@code self}: how to reach Bunker's own database as a backup source. */
    public Backups(BackupsConfig config, java.nio.file.Path dataDir, DataSource db, Map<String, dev.bunker.store.Store> stores, Clock clock,
                   TakeBackup.SelfUrl self) {
        this.config = config;
        this.db = db;
        this.clock = clock;
        this.catalog = new BackupCatalog(db);
        this.take = new TakeBackup(config, stores, catalog, clock, self, dataDir);
        this.restore = new RestoreBackup(config, stores, catalog, dataDir);
        this.prune = new PruneBackups(config, stores, catalog, clock);
    }

    public BackupsConfig config() { return config; }

    public BackupCatalog catalog() { return catalog; }

    public TakeBackup take() { return take; }

    public RestoreBackup restore() { return restore; }

    public PruneBackups prune() { return prune; }

    /** When each source's newest scheduled backup of each kind finished (null: none yet): dump, snapshot, and base with pitr. */
    public Map<String, Map<String, Instant>> lastBackups() throws SQLException {
        Map<String, Map<String, Instant>> out = new LinkedHashMap<>();
        for (String source : config.sources().keySet()) {
            Map<String, Instant> kinds = new LinkedHashMap<>();
            for (String k : scheduledKinds(source)) kinds.put(k, last(source, k));
            out.put(source, kinds);
        }
        return out;
    }

    private List<String> scheduledKinds(String source) {
        return config.every(source, "base") == null ? List.of("dump", "snapshot") : List.of("dump", "snapshot", "base");
    }

    private Instant last(String source, String kind) throws SQLException {
        return catalog.newest(source, kind);
    }

    /** Takes every backup that is due (one process at a time per source and kind), and prunes hourly. */
    public void runDue() throws SQLException {
        Instant now = clock.instant();
        for (String source : config.sources().keySet()) {
            for (String kind : scheduledKinds(source)) {
                Duration every = config.every(source, kind);
                Instant last = last(source, kind);
                if (last != null && last.plus(every).isAfter(now)) continue;
                AdvisoryLock.tryWith(db, "bunker.backup", source + "/" + kind, () -> {
                    Instant again = last(source, kind); // another process may have just taken it
                    if (again != null && again.plus(every).isAfter(clock.instant())) return null;
                    try {
                        Manifest m = take.run(source, kind);
                        LOG.info("backup {} taken: {} bytes, sha256 {}", m.id(), m.size(), m.sha256());
                    } catch (IOException | SQLException | RuntimeException e) {
                        LOG.warn("backup of {} ({}) failed, will retry at the next check: {}", source, kind, e.getMessage());
                    }
                    return null;
                });
            }
        }
        if (Duration.between(lastPrune, now).compareTo(Duration.ofHours(1)) >= 0) {
            lastPrune = now;
            try {
                PruneBackups.Report r = prune.run(false);
                if (!r.removed().isEmpty() || !r.orphansRemoved().isEmpty()) LOG.info("pruned backups {} and orphans {}", r.removed(), r.orphansRemoved());
            } catch (IOException | RuntimeException e) {
                LOG.warn("backup prune failed, will retry: {}", e.getMessage());
            }
        }
    }

    public void start(Duration checkEvery) {
        if (config.enabled()) schedule = Periodic.start("backups", Duration.ofSeconds(5), checkEvery, LOG, this::runDue);
    }

    @Override
    public void close() {
        if (schedule != null) schedule.shutdownNow();
    }
}
