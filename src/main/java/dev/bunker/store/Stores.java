package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Opens the configured stores, always behind the same wrappers: (test faults), lock-refusal metrics, the deletion guard. */
public final class Stores {
    private Stores() {}

    static Store open(StoreConfig config, Clock clock) {
        if (config instanceof StoreConfig.Local local) return new LocalStore(local.name(), local.path(), clock);
        if (config instanceof StoreConfig.S3 s3) return new S3Store(s3, clock);
        throw new IllegalArgumentException("unknown store type " + config.getClass().getSimpleName());
    }

    /** Every store, guarded, for commands that keep no metrics (restore, the store check). */
    public static Map<String, Store> openAll(Map<String, StoreConfig> configs, Clock clock) {
        return openAll(configs, clock, UnaryOperator.identity(), new SimpleMeterRegistry());
    }

    /**
     * Every store, in configuration order: passed through {@code wrap} (tests inject faults there), counted in
     * {@code metrics}, and guarded ({@link GuardedStore}). Closes the ones already open if one fails.
     */
    public static Map<String, Store> openAll(Map<String, StoreConfig> configs, Clock clock, UnaryOperator<Store> wrap, MeterRegistry metrics) {
        Map<String, Store> out = new LinkedHashMap<>();
        try {
            for (StoreConfig c : configs.values()) out.put(c.name(), new GuardedStore(new MeteredStore(wrap.apply(open(c, clock)), metrics)));
            return out;
        } catch (RuntimeException e) {
            out.values().forEach(Store::close);
            throw e;
        }
    }
}
