package dev.bunker.clone;

import dev.bunker.Periodic;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.config.BunkerConfig.CloneJob;
import dev.bunker.config.BunkerConfig.ClonesConfig;
import dev.bunker.config.Redact;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scheduled clones in {@code serve}: once a minute, each clone whose last run started {@code every} ago or more is made
 * again from its source's newest backup, replacing the target (only once the new clone is whole, see
 * {@link CloneDatabase}); a backup already cloned is not cloned again. The scrub file and the key are read at each run,
 * so a scrub file edited since is what the next clone follows, and a clone it no longer covers fails without
 * touching the target. Every run is recorded ({@code clone_runs}) and logged.
 */
public final class CloneSchedule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CloneSchedule.class);

    /** What one due clone did. */
    public enum Outcome { CLONED, UP_TO_DATE, FAILED }

    private final ClonesConfig config;
    private final RestoreBackup restore;
    private final CloneDatabase clones;
    private final CloneRuns runs;
    private final Clock clock;
    private ScheduledExecutorService timer;
    private final java.util.Set<String> checkedLeftovers = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public CloneSchedule(ClonesConfig config, RestoreBackup restore, Path pgBin, DataSource db, Clock clock) {
        this.config = config;
        this.restore = restore;
        this.clones = new CloneDatabase(restore, pgBin, clock);
        this.runs = new CloneRuns(db);
        this.clock = clock;
    }

    public boolean enabled() {
        return !config.jobs().isEmpty();
    }

    public synchronized void start(Duration check) {
        if (!enabled() || timer != null) return;
        timer = Periodic.start("clones", check, check, LOG, this::runDue);
    }

    /** Runs every clone that is due; returns how many were made. */
    public int runDue() throws SQLException {
        int made = 0;
        for (CloneJob job : config.jobs().values()) {
            if (!checkedLeftovers.contains(job.name())) { // a serve killed mid-clone left an unscrubbed database: not until the next run
                try {
                    clones.dropLeftovers(job.target(), job.password(), line -> LOG.warn("clone {}: {}", job.name(), line));
                    checkedLeftovers.add(job.name());
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.warn("clone {}: {}", job.name(), e.getMessage());
                }
            }
            Optional<CloneRuns.Run> last = runs.last(job.name());
            // (a second's slack: a check a hair early would wait another minute)
            if (last.isPresent() && last.get().startedAt().plus(job.every()).isAfter(clock.instant().plusSeconds(1))) continue;
            if (run(job) == Outcome.CLONED) made++;
        }
        return made;
    }

    /** One clone now, whether due or not. */
    public Outcome run(CloneJob job) throws SQLException {
        Instant now = clock.instant();
        String target = Redact.databaseUrl(job.target());
        Manifest m;
        try {
            m = restore.find("latest", job.source());
        } catch (java.io.IOException | RuntimeException e) {
            runs.finish(runs.start(job.name(), null, now), "failed", e.getMessage(), clock.instant());
            LOG.warn("clone {}: no backup of {} to clone: {}", job.name(), job.source(), e.getMessage());
            return Outcome.FAILED;
        }
        Optional<CloneRuns.Run> done = runs.lastDone(job.name());
        if (done.isPresent() && m.id().equals(done.get().backupId())) {
            runs.skipped(job.name(), m.id(), "backup " + m.id() + " is the one cloned last", now);
            LOG.info("clone {}: {} is up to date (backup {})", job.name(), target, m.id());
            return Outcome.UP_TO_DATE;
        }
        long id = runs.start(job.name(), m.id(), now);
        try {
            ScrubFile scrub = ScrubFile.read(job.scrub());
            CloneDatabase.Result r = clones.grantingTo(job.grantTo()).run(m, job.target(), job.password(), scrub, AgeCrypto.readIdentities(job.identity()), true, false,
                    line -> { }, line -> LOG.debug("clone {}: {}", job.name(), line));
            runs.finish(id, "done", null, clock.instant());
            LOG.info("clone {}: backup {} cloned into {}{}: {} column(s) scrubbed and verified, in {}", job.name(), m.id(), target,
                    r.replaced() ? " (replaced)" : "", r.columns().size(), r.timings());
            return Outcome.CLONED;
        } catch (java.io.IOException | RuntimeException e) {
            runs.finish(id, "failed", e.getMessage(), clock.instant());
            LOG.warn("clone {} into {} failed; {} is unchanged, the next run tries again: {}", job.name(), target, target, e.getMessage());
            return Outcome.FAILED;
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) timer.shutdownNow();
        timer = null;
    }
}
