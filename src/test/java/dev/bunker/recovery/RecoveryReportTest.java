package dev.bunker.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.StoreConfig;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which stores a region or cloud outage takes together. */
class RecoveryReportTest {
    static StoreConfig s3(String endpoint, String region) {
        return new StoreConfig.S3("s", StoreConfig.Tier.HOT, null, endpoint == null ? null : URI.create(endpoint), region, "b", null, false,
                "ak", "sk", null, 8 << 20, 8);
    }

    @Test
    void storesAreGroupedByCloudAndRegion() {
        assertThat(RecoveryReport.cloud(new StoreConfig.Local("l", StoreConfig.Tier.HOT, null, Path.of("/x")))).isEqualTo("this machine");
        assertThat(RecoveryReport.cloud(s3("http://127.0.0.1:9000", "us-east-1"))).isEqualTo("this machine"); // MinIO beside Bunker
        assertThat(RecoveryReport.site(s3("http://localhost:7480", "default"))).isEqualTo("this machine");
        assertThat(RecoveryReport.cloud(s3(null, "eu-west-1"))).isEqualTo("AWS");
        assertThat(RecoveryReport.cloud(s3("https://S3.EU-WEST-1.amazonaws.com", "eu-west-1"))).isEqualTo("AWS");
        assertThat(RecoveryReport.site(s3(null, "eu-west-1"))).isEqualTo(RecoveryReport.site(s3("https://s3.eu-west-1.amazonaws.com", "EU-WEST-1")));
        assertThat(RecoveryReport.site(s3(null, "eu-west-1"))).isNotEqualTo(RecoveryReport.site(s3(null, "us-east-1")));
        assertThat(RecoveryReport.cloud(s3("https://s3.eu-central-1.wasabisys.com", "eu-central-1")))
                .isEqualTo(RecoveryReport.cloud(s3("https://s3.us-east-1.wasabisys.com", "us-east-1"))).isEqualTo("wasabisys.com");
        assertThat(RecoveryReport.cloud(s3("https://10.0.0.5:9000", "x"))).isEqualTo("10.0.0.5");
    }
}
