package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Opt-in: the store contract against a real cloud bucket (created with Object Lock enabled), run when
 * BUNKER_TEST_S3_BUCKET is set, with BUNKER_TEST_S3_ENDPOINT (empty for AWS), BUNKER_TEST_S3_REGION,
 * BUNKER_TEST_S3_ACCESS_KEY and BUNKER_TEST_S3_SECRET_KEY. Objects go under a random prefix; locked
 * test objects stay until their (short) retention ends, so use a scratch bucket.
 */
@EnabledIfEnvironmentVariable(named = "BUNKER_TEST_S3_BUCKET", matches = ".+")
class RealS3StoreTest extends LockableStoreContract {
    String prefix;

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    @Override
    protected Store newStore() {
        String endpoint = env("BUNKER_TEST_S3_ENDPOINT", null);
        prefix = "bunker-test/" + UUID.randomUUID() + "/";
        return new S3Store(new StoreConfig.S3("real", StoreConfig.Tier.HOT, new StoreConfig.LockConfig(Duration.ofDays(1)),
                endpoint == null ? null : URI.create(endpoint), env("BUNKER_TEST_S3_REGION", "us-east-1"), System.getenv("BUNKER_TEST_S3_BUCKET"),
                prefix, endpoint != null, System.getenv("BUNKER_TEST_S3_ACCESS_KEY"), System.getenv("BUNKER_TEST_S3_SECRET_KEY"), null, 5L << 20, 8),
                Clock.systemUTC());
    }

    private S3Client raw() {
        String endpoint = env("BUNKER_TEST_S3_ENDPOINT", null);
        var b = S3Client.builder().region(Region.of(env("BUNKER_TEST_S3_REGION", "us-east-1"))).forcePathStyle(endpoint != null)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(System.getenv("BUNKER_TEST_S3_ACCESS_KEY"),
                        System.getenv("BUNKER_TEST_S3_SECRET_KEY"))));
        if (endpoint != null) b.endpointOverride(URI.create(endpoint));
        return b.build();
    }

    @Override
    protected int unfinishedUploads() {
        try (S3Client s3 = raw()) {
            return s3.listMultipartUploads(r -> r.bucket(System.getenv("BUNKER_TEST_S3_BUCKET")).prefix(prefix)).uploads().size();
        }
    }

    @Override
    protected int versionsKept(String key) {
        try (S3Client s3 = raw()) {
            var r = s3.listObjectVersions(b -> b.bucket(System.getenv("BUNKER_TEST_S3_BUCKET")).prefix(prefix + key));
            return (int) (r.versions().stream().filter(v -> v.key().equals(prefix + key)).count()
                    + r.deleteMarkers().stream().filter(v -> v.key().equals(prefix + key)).count());
        }
    }
}
