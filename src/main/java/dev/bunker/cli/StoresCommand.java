package dev.bunker.cli;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.store.Store;
import dev.bunker.store.StoreHealth;
import dev.bunker.store.Stores;
import dev.bunker.json.Json;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker stores}: probe every configured store (no database needed). */
@Command(name = "stores", mixinStandardHelpOptions = true,
        description = "Check that every configured store answers (and keeps Object Lock where configured). Exit code 1 if one fails.")
public final class StoresCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BunkerConfig config = options.load();
        Map<String, Store> stores = Stores.openAll(config.stores(), Clock.systemUTC());
        try {
            Map<String, Boolean> mustLock = new LinkedHashMap<>();
            config.stores().values().forEach(s -> mustLock.put(s.name(), s.lock() != null));
            List<StoreHealth.Result> results = StoreHealth.checkAll(stores, mustLock, 15_000);
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(results));
            } else {
                for (StoreHealth.Result r : results) {
                    StoreConfig c = config.store(r.store());
                    System.out.printf("%-12s %-6s %-5s %-22s %s%n", r.store(), c instanceof StoreConfig.S3 ? "s3" : "local",
                            c.tier().name().toLowerCase(), c.lock() == null ? "no lock" : "compliance lock",
                            r.ok() ? "ok (" + r.latencyMillis() + " ms)" : "FAILING: " + r.error());
                }
            }
            return results.stream().allMatch(StoreHealth.Result::ok) ? 0 : 1;
        } finally {
            stores.values().forEach(Store::close);
        }
    }
}
