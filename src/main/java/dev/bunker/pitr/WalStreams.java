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

/** {@code serve}'s WAL streaming: one {@link WalStream} on a thread of its own per source with {@code pitr}. */
public final class WalStreams implements AutoCloseable {
    private final List<WalStream> streams = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    public WalStreams(BackupsConfig config, Map<String, Store> stores, Path dataDir, Clock clock) throws IOException {
        WalUploader uploader = null;
        for (BackupSource s : config.sources().values()) {
            if (s.pitr() == null) continue;
            if (uploader == null) uploader = new WalUploader(config, stores, dataDir);
            streams.add(new WalStream(s, config, uploader, clock));
        }
    }

    public boolean enabled() {
        return !streams.isEmpty();
    }

    public void start() {
        for (WalStream s : streams) {
            Thread t = new Thread(s, "wal-" + s.status().snapshot().source());
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
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
