package dev.bunker.testing;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.Policy;
import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.config.HostPort;
import dev.bunker.config.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Configurations for tests: real PostgreSQL, local stores under a temp folder, periods shrunk to seconds. */
public final class TestConfigs {
    private TestConfigs() {}

    /** primary (hot) + vault (hot, locked 21d) + shelter (cold), all local, on a fresh database. */
    public static BunkerConfig threeLocalStores(Path dir) {
        return threeStores(dir, new StoreConfig.Local("shelter", StoreConfig.Tier.COLD, null, dir.resolve("shelter")));
    }

    /** As {@link #threeLocalStores} but the given store as shelter (e.g. an S3 store). */
    public static BunkerConfig threeStores(Path dir, StoreConfig shelter) {
        Map<String, StoreConfig> stores = new LinkedHashMap<>();
        stores.put("primary", new StoreConfig.Local("primary", StoreConfig.Tier.HOT, null, dir.resolve("primary")));
        stores.put("vault", new StoreConfig.Local("vault", StoreConfig.Tier.HOT, new StoreConfig.LockConfig(Duration.ofDays(21)), dir.resolve("vault")));
        stores.put(shelter.name(), shelter);
        ReplicationConfig rep = new ReplicationConfig("primary", List.of("vault", shelter.name()),
                List.of(new Policy("free", "free/", List.of("vault"))), 4, Duration.ofSeconds(3), Duration.ofMillis(100), 3,
                Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(2));
        return new BunkerConfig("test", dir, new HostPort("127.0.0.1", 0), TestDatabase.fresh(), stores, rep,
                new BunkerConfig.ApiConfig(Map.of()), BunkerConfig.LifecycleConfig.DEFAULTS, BunkerConfig.BackupsConfig.NONE);
    }
}
