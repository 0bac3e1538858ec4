package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.StoreConfig;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** "Only the cleanup job deletes" holds on every path that opens stores, the command-line ones included. */
@Timeout(30)
class EveryStoreGuardedTest {
    @TempDir Path dir;

    @Test
    void storesOpenedForTheCommandLineRefuseDeletesWithoutThePermit() {
        Map<String, StoreConfig> configs = new LinkedHashMap<>();
        configs.put("a", new StoreConfig.Local("a", StoreConfig.Tier.HOT, null, dir.resolve("a")));
        Map<String, Store> stores = Stores.openAll(configs, Clock.systemUTC());
        try {
            Store a = stores.get("a");
            a.put("k", new ByteArrayInputStream(new byte[] {1}), PutOptions.ofSize(1));
            assertThatThrownBy(() -> a.delete("k")).isInstanceOf(GuardedStore.DeletionRefusedException.class);
            assertThat(a.stat("k")).isPresent();
            GuardedStore.withDeletionPermit("test", () -> {
                a.delete("k");
                return null;
            });
            assertThat(a.stat("k")).isEmpty();
        } finally {
            stores.values().forEach(Store::close);
        }
    }
}
