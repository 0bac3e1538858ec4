package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.net.URI;
import java.time.Clock;
import java.util.UUID;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Opt-in: the store contract against a real cloud bucket (created with Object Lock enabled), run when
 * BUNKER_TEST_S3_BUCKET is set, with BUNKER_TEST_S3_ENDPOINT (empty for AWS), BUNKER_TEST_S3_REGION,
 * BUNKER_TEST_S3_ACCESS_KEY and BUNKER_TEST_S3_SECRET_KEY. Objects go under a random prefix; locked
 * test objects stay until their (short) retention ends, so use a scratch bucket.
 */
@EnabledIfEnvironmentVariable(named = "BUNKER_TEST_S3_BUCKET", matches = ".+")
class RealS3StoreTest extends StoreContract {
    @Override
    protected Store newStore() {
        String endpoint = System.getenv("BUNKER_TEST_S3_ENDPOINT");
        return new S3Store(new StoreConfig.S3("real", StoreConfig.Tier.HOT, null,
                endpoint == null || endpoint.isBlank() ? null : URI.create(endpoint),
                System.getenv().getOrDefault("BUNKER_TEST_S3_REGION", "us-east-1"), System.getenv("BUNKER_TEST_S3_BUCKET"),
                "bunker-test/" + UUID.randomUUID() + "/", endpoint != null && !endpoint.isBlank(),
                System.getenv("BUNKER_TEST_S3_ACCESS_KEY"), System.getenv("BUNKER_TEST_S3_SECRET_KEY"), null, 5L << 20, 8),
                Clock.systemUTC());
    }
}
