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
