package dev.bunker.pitr;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.Backups;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.TestConfigs;
import java.nio.file.Path;
import java.time.Clock;

/** A Bunker on three local stores streaming the WAL of one PostgreSQL source ({@link PointInTimeRestoreTest#pitrBackups}). */
record StreamingBunker(Bunker bunker, Backups backups, WalStreams streams) implements AutoCloseable {
    /** Starts it under {@code dir} for the source on {@code port}, its age key written to {@code key}. */
    static StreamingBunker start(Path dir, int port, Path key) throws Exception {
        BackupsConfig b = PointInTimeRestoreTest.pitrBackups(AppDatabases.ageKey(key), port);
        Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b), Clock.systemUTC());
        Backups backups = Engine.backups(bunker);
        WalStreams streams = new WalStreams(b, bunker.stores(), bunker.config().dataDir(), Clock.systemUTC(), new WalLedger(bunker.database().dataSource()));
        streams.start();
        return new StreamingBunker(bunker, backups, streams);
    }

    @Override
    public void close() throws Exception {
        streams.close();
        backups.close();
        bunker.close();
    }
}
