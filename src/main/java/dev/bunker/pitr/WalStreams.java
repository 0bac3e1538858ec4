package dev.bunker.pitr;

import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve}'s WAL: one {@link WalStream} on a thread of its own per source with {@code wal: stream}, and a
 * {@link WalArchiveWatch} every 30 s per source with {@code wal: archive} (whose segments arrive by {@link WalPush}).
 */
public final class WalStreams implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalStreams.class);
    private final List<WalStream> streams = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final List<WalArchiveWatch> watches = new ArrayList<>();
    private java.util.concurrent.ScheduledExecutorService pruning;
    private java.util.concurrent.ScheduledExecutorService watching;
    static final java.time.Duration WATCH_EVERY = java.time.Duration.ofSeconds(30);

    /** {@code ledger}: where each stream's status is recorded for other processes (null: nowhere). */
    public WalStreams(BackupsConfig config, Map<String, Store> stores, Path dataDir, Clock clock, WalLedger ledger) throws IOException {
        WalUploader uploader = null;
        for (BackupSource s : config.sources().values()) {
            if (s.pitr() == null) continue;
            if (s.pitr().archive()) {
                if (ledger != null) watches.add(new WalArchiveWatch(s, ledger, clock));
                continue;
            }
            if (uploader == null) uploader = new WalUploader(config, stores, dataDir);
            streams.add(new WalStream(s, config, uploader, clock, ledger == null ? status -> {} : new LedgerReporter(ledger, clock)));
        }
    }

    /** Records each stream's status and gaps in the ledger, and reads where the stored WAL ended (failures are logged, not thrown). */
    private record LedgerReporter(WalLedger ledger, Clock clock) implements WalStream.Reporter {
        @Override
        public void report(WalStatus.Snapshot status) {
            try {
                ledger.record(status, clock.instant());
            } catch (SQLException | RuntimeException e) {
                LOG.debug("could not record the WAL status of {}: {}", status.source(), e.getMessage());
            }
        }

        @Override
        public WalLedger.Row previous(String source) {
            try {
                return ledger.row(source);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("could not read the WAL status of {}: {}", source, e.getMessage());
                return null;
            }
        }

        @Override
        public void gap(String source, String from, String to, java.time.Instant at) {
            try {
                ledger.recordGap(source, from, to, at);
            } catch (SQLException | RuntimeException e) {
                LOG.warn("could not record the WAL gap of {} ({} to {}): {}", source, from, to, e.getMessage());
            }
        }
    }

    public boolean enabled() {
        return !streams.isEmpty() || !watches.isEmpty();
    }

    public void start() {
        for (WalStream s : streams) {
            Thread t = new Thread(s, "wal-" + s.status().snapshot().source());
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        if (!watches.isEmpty()) {
            watching = dev.bunker.Periodic.start("wal-archive-watch", java.time.Duration.ofSeconds(1), WATCH_EVERY, LOG, () -> {
                for (WalArchiveWatch w : watches) {
                    try {
                        w.check();
                    } catch (SQLException e) {
                        LOG.debug("could not record the archiving state: {}", e.getMessage());
                    }
                }
            });
        }
    }

    /**
     * {@code bunker_wal_lag_seconds{source}}: how long the last stored chunk's oldest byte waited, or, while the stream is
     * down, how long since WAL was last stored (NaN where another process streams the source);
     * {@code bunker_wal_streaming{source}}: 1 while this process streams it; {@code bunker_wal_slot_retained_bytes{source}}.
     */
    public void registerMetrics(io.micrometer.core.instrument.MeterRegistry registry, Clock clock) {
        for (WalStream stream : streams) {
            String source = stream.status().snapshot().source();
            io.micrometer.core.instrument.Gauge.builder("bunker_wal_lag_seconds", () -> {
                WalStatus.Snapshot s = stream.status().snapshot();
                if (s.standby()) return Double.NaN;
                if (s.streaming() || s.durableAt() == null) return s.lagSeconds();
                return java.time.Duration.between(s.durableAt(), clock.instant()).toMillis() / 1000.0;
            }).tag("source", source).description("seconds WAL waited to be stored in every backup store").register(registry);
            io.micrometer.core.instrument.Gauge.builder("bunker_wal_streaming", () -> stream.status().snapshot().streaming() ? 1 : 0)
                    .tag("source", source).description("1 while this process streams the source's WAL").register(registry);
            io.micrometer.core.instrument.Gauge.builder("bunker_wal_slot_retained_bytes", () -> {
                Long r = stream.status().snapshot().retainedBytes();
                return r == null ? Double.NaN : r;
            }).tag("source", source).description("WAL the source keeps for Bunker's slot (as of the last chunk stored)").register(registry);
        }
    }

    /** Prunes WAL no kept base backup needs every {@code every} (after the backups' own hourly prune has run). */
    public void startPruning(PruneWal prune, java.time.Duration every) {
        pruning = dev.bunker.Periodic.start("wal-prune", every, every, LOG, () -> {
            try {
                PruneWal.Report r = prune.run(false);
                if (!r.removed().isEmpty()) LOG.info("pruned {} WAL object(s) no kept base backup needs", r.removed().size());
                if (!r.failed().isEmpty()) LOG.warn("could not prune WAL (will retry): {}", r.failed());
            } catch (IOException e) {
                LOG.warn("WAL prune failed, will retry: {}", e.getMessage());
            }
        });
    }

    public List<WalStatus.Snapshot> status() {
        return streams.stream().map(s -> s.status().snapshot()).toList();
    }

    /** Stops every stream as a kill would: nothing more is stored, connections are cut. */
    void abandon() throws InterruptedException {
        streams.forEach(WalStream::abandon);
        for (Thread t : threads) t.join(15_000);
    }

    /** Stops every stream: each stores what it holds (if its stores answer) and lets its connection go. */
    @Override
    public void close() {
        if (pruning != null) pruning.shutdownNow();
        if (watching != null) watching.shutdownNow();
        streams.forEach(WalStream::stop);
        for (Thread t : threads) {
            try {
                t.join(15_000);
                if (t.isAlive()) t.interrupt();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
