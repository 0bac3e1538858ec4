package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.HostPort;
import dev.bunker.config.StoreConfig;
import dev.bunker.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** /healthz is 200 when the database and every store answer, and 503 naming the part that does not. */
@Timeout(60)
class HealthzTest {
    @TempDir Path dir;

    @Test
    void aDeadStoreMakesHealth503AndIsNamed() throws Exception {
        Map<String, StoreConfig> stores = new LinkedHashMap<>();
        stores.put("primary", new StoreConfig.Local("primary", StoreConfig.Tier.HOT, null, dir.resolve("p")));
        stores.put("shelter", new StoreConfig.S3("shelter", StoreConfig.Tier.COLD, null, URI.create("http://127.0.0.1:1"), "us-east-1",
                "b", "", true, "a", "b", null, 8L << 20, 2));
        BunkerConfig config = new BunkerConfig("test", dir, new HostPort("127.0.0.1", 0), TestDatabase.fresh(), stores,
                new BunkerConfig.ReplicationConfig("primary", List.of("shelter"), 1), new BunkerConfig.ApiConfig(Map.of()), BunkerConfig.LifecycleConfig.DEFAULTS, BunkerConfig.BackupsConfig.NONE);
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
             HttpApi api = new HttpApi(config.listen(), Tokens.load(config.api(), dir), 2).add(SystemRoutes.of(bunker))) {
            api.start();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(api.uri().resolve("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("\"database\" : \"ok\"", "\"primary\" : \"ok\"", "failing: store shelter");
        }
    }
}
