package dev.bunker.binlog;

import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.pitr.WalLedger;
import dev.bunker.pitr.WalUploader;
import dev.bunker.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code serve}'s binary log streams: one {@link BinlogStream} per MariaDB source with {@code binlog}. */
public final class BinlogStreams implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BinlogStreams.class);
    private final List<BinlogStream> streams = new ArrayList<>();
    private final PruneBinlog prune;
    private java.util.concurrent.ScheduledExecutorService pruning;

    public BinlogStreams(BackupsConfig config, Map<String, Store> stores, Path dataDir, Clock clock, WalLedger ledger, BackupCatalog catalog)
            throws IOException {
        WalUploader uploader = null;
        for (BackupSource s : config.sources().values()) {
            if (s.binlog() == null) continue;
            if (uploader == null) uploader = new WalUploader(config, stores, dataDir);
            streams.add(new BinlogStream(s, config, stores, uploader, ledger, catalog, ManifestTrust.of(config.signers(), dataDir), clock, dataDir));
        }
        prune = new PruneBinlog(config, stores, catalog, clock);
    }

    public boolean enabled() {
        return !streams.isEmpty();
    }

    /** Gauges per source: whether it streams, and how long ago its stored binary log was last known complete. */
    public void registerMetrics(io.micrometer.core.instrument.MeterRegistry registry, Clock clock) {
        for (BinlogStream stream : streams) {
            io.micrometer.core.instrument.Gauge.builder("bunker_binlog_streaming", () -> stream.streaming() ? 1 : 0)
                    .tag("source", stream.source()).description("1 while this process streams the source's binary log").register(registry);
            io.micrometer.core.instrument.Gauge.builder("bunker_binlog_stored_age_seconds", () -> stream.durableAt() == null ? Double.NaN
                            : java.time.Duration.between(stream.durableAt(), clock.instant()).toMillis() / 1000.0)
                    .tag("source", stream.source()).description("seconds since the stored binary log was last known complete").register(registry);
        }
    }

    /** Starts every stream, and an hourly prune of the binary log no kept dump needs. */
    public void start() {
        streams.forEach(BinlogStream::start);
        pruning = dev.bunker.Periodic.start("binlog-prune", java.time.Duration.ofMinutes(5), java.time.Duration.ofHours(1), LOG, () -> {
            PruneBinlog.Report r = prune.run(false);
            if (!r.removed().isEmpty()) LOG.info("pruned {} binary log object(s); kept {}", r.removed().size(), r.keptFrom());
        });
    }

    @Override
    public void close() {
        if (pruning != null) pruning.shutdownNow();
        streams.forEach(BinlogStream::close);
    }
}
