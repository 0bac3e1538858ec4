package dev.bunker;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.db.Database;
import dev.bunker.store.Store;
import dev.bunker.store.StoreHealth;
import dev.bunker.store.Stores;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One opened Bunker: its validated config, its database (migrated) and its stores. Commands open
 * one, do their work and close it; {@code serve} adds the HTTP API and the background jobs on top.
 */
public final class Bunker implements AutoCloseable {
    private final BunkerConfig config;
    private final Clock clock;
    private final Database database;
    private final Map<String, Store> stores;
    private final PrometheusMeterRegistry metrics;

    private Bunker(BunkerConfig config, Clock clock, Database database, Map<String, Store> stores, PrometheusMeterRegistry metrics) {
        this.metrics = metrics;
        this.config = config;
        this.clock = clock;
        this.database = database;
        this.stores = stores;
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        new UptimeMetrics().bindTo(metrics);
    }

    public static Bunker open(BunkerConfig config, Clock clock) {
        return open(config, clock, UnaryOperator.identity());
    }

    /**
     * Opens with every store passed through {@code wrap} (in tests, fault-injecting wrappers), and then
     * through the wrappers every store has ({@link Stores#openAll}): metrics and the deletion guard.
     */
    public static Bunker open(BunkerConfig config, Clock clock, UnaryOperator<Store> wrap) {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Map<String, Store> stores = Stores.openAll(config.stores(), clock, wrap, metrics);
        try {
            Database db = Database.open(config.database(), config.dataDir());
            return new Bunker(config, clock, db, stores, metrics);
        } catch (RuntimeException e) {
            stores.values().forEach(Store::close);
            throw e;
        }
    }

    public BunkerConfig config() { return config; }

    public Clock clock() { return clock; }

    public Database database() { return database; }

    public Map<String, Store> stores() { return stores; }

    public Store store(String name) {
        Store s = stores.get(name);
        if (s == null) throw new IllegalArgumentException("no store named '" + name + "'; configured stores: " + stores.keySet());
        return s;
    }

    public PrometheusMeterRegistry metrics() { return metrics; }

    /** Probes every store (and its Object Lock where the config asks for one), at most {@code timeoutMillis} in all. */
    public List<StoreHealth.Result> storeHealth(long timeoutMillis) {
        Map<String, Boolean> mustLock = new LinkedHashMap<>();
        for (StoreConfig s : config.stores().values()) mustLock.put(s.name(), s.lock() != null);
        return StoreHealth.checkAll(stores, mustLock, timeoutMillis);
    }

    @Override
    public void close() {
        stores.values().forEach(Store::close);
        database.close();
        metrics.close();
    }
}
