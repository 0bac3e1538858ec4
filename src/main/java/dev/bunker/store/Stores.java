package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** Opens the configured stores. */
public final class Stores {
    private Stores() {}

    public static Store open(StoreConfig config, Clock clock) {
        if (config instanceof StoreConfig.Local local) return new LocalStore(local.name(), local.path(), clock);
        if (config instanceof StoreConfig.S3 s3) return new S3Store(s3, clock);
        throw new IllegalArgumentException("unknown store type " + config.getClass().getSimpleName());
    }

    /** Opens every store, in configuration order; closes the ones already open if one fails. */
    public static Map<String, Store> openAll(Map<String, StoreConfig> configs, Clock clock) {
        Map<String, Store> out = new LinkedHashMap<>();
        try {
            for (StoreConfig c : configs.values()) out.put(c.name(), open(c, clock));
            return out;
        } catch (RuntimeException e) {
            out.values().forEach(Store::close);
            throw e;
        }
    }
}
