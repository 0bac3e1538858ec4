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
    private final List<BinlogStream> streams = new ArrayList<>();

    public BinlogStreams(BackupsConfig config, Map<String, Store> stores, Path dataDir, Clock clock, WalLedger ledger, BackupCatalog catalog)
            throws IOException {
        WalUploader uploader = null;
        for (BackupSource s : config.sources().values()) {
            if (s.binlog() == null) continue;
            if (uploader == null) uploader = new WalUploader(config, stores, dataDir);
            streams.add(new BinlogStream(s, config, stores, uploader, ledger, catalog, ManifestTrust.of(config.signers(), dataDir), clock, dataDir));
        }
    }

    public boolean enabled() {
        return !streams.isEmpty();
    }

    public void start() {
        streams.forEach(BinlogStream::start);
    }

    @Override
    public void close() {
        streams.forEach(BinlogStream::close);
    }
}
