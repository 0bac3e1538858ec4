package dev.bunker.export;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.replication.Replication;
import dev.bunker.store.LocalStore;
import dev.bunker.store.Sha256;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The export tests' Bunker: three local stores behind fault-injecting wrappers, replication, exports, and what was put. */
abstract class ExportFixture {
    @TempDir Path dir;
    final Random random;
    final Map<String, FaultyStore> faulty = new HashMap<>();
    final MutableClock clock = MutableClock.atNow();
    final Consumer<String> quiet = line -> { };
    final Map<String, byte[]> stored = new TreeMap<>();
    Bunker bunker;
    Replication replication;
    Exports exports;

    ExportFixture(long seed) {
        random = new Random(seed);
    }

    @BeforeEach
    void open() {
        bunker = Bunker.open(TestConfigs.threeLocalStores(dir), clock, FaultyStore.into(faulty));
        replication = Engine.replication(bunker);
        exports = Engine.exports(bunker, replication);
    }

    @AfterEach
    void close() {
        replication.close();
        bunker.close();
    }

    /** Puts {@code size} random bytes at {@code key} through the primary, and remembers them. */
    void put(String key, int size) throws Exception {
        byte[] data = new byte[size];
        random.nextBytes(data);
        replication.ingest().put(key, new ByteArrayInputStream(data), data.length, null, null);
        stored.put(key, data);
    }

    Path onDisk(String store, String key) {
        return ((LocalStore) faulty.get(store).real()).pathOf(key);
    }

    /** What was put under {@code prefix}: key to SHA-256. */
    Map<String, String> expected(String prefix) {
        Map<String, String> out = new TreeMap<>();
        stored.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k, Sha256.hexOf(v));
        });
        return out;
    }
}
