package dev.bunker.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's time series: one row per figure and sample time whoever samples, merged into at most MAX_POINTS buckets, pruned. */
@Timeout(120)
class SeriesTest {
    @TempDir Path dir;

    @Test
    void samplesAreKeptOncePerTimeMergedIntoBoundedBucketsAndPruned() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00.400Z"));
        try (Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir), clock)) {
            Series series = new Series(bunker.database().dataSource());
            double[] reading = {0};
            Sampler sampler = new Sampler(series, () -> Map.of("queue.depth", reading[0], "copied.bytes@a", reading[0] * 10), clock,
                    Duration.ofSeconds(1), Duration.ofDays(1));
            Instant first = sampler.sampleOnce();
            assertThat(first).isEqualTo(Instant.parse("2026-12-01T00:00:00Z")); // rounded down to the period
            reading[0] = 99;
            sampler.sampleOnce(); // a second serve sampling the same second: the first value stays
            assertThat(series.since(first, clock.instant(), Duration.ofSeconds(1)).get("queue.depth").values()).containsExactly(0.0);
            for (int i = 1; i < 3000; i++) {
                clock.advance(Duration.ofSeconds(1));
                reading[0] = i;
                sampler.sampleOnce();
            }
            Instant now = clock.instant();
            Series.Line all = series.since(first, now, Duration.ofSeconds(1)).get("queue.depth");
            assertThat(all.at()).hasSizeLessThanOrEqualTo(Series.MAX_POINTS).hasSizeGreaterThan(1000);
            assertThat(all.values().get(all.values().size() - 1)).isEqualTo(2999.0); // the newest reading survives the merge
            assertThat(all.values()).isSorted();
            Series.Line recent = series.since(now.minusSeconds(60), now, Duration.ofSeconds(1)).get("copied.bytes@a");
            assertThat(recent.at()).hasSize(60); // short spans keep every sample
            assertThat(recent.values().get(59)).isEqualTo(29_990.0);

            clock.advance(Duration.ofDays(1).minusSeconds(100));
            sampler.sampleOnce(); // prunes what is older than a day
            try (java.sql.Connection c = bunker.database().connection();
                 java.sql.PreparedStatement ps = c.prepareStatement("select count(*), min(at) from series")) {
                java.sql.ResultSet rs = ps.executeQuery();
                rs.next();
                assertThat(rs.getTimestamp(2).toInstant()).isAfterOrEqualTo(clock.instant().minus(Duration.ofDays(1)));
                assertThat(rs.getLong(1)).isBetween(2L * 99, 2L * 102); // the last 100 s of samples and the new one, of two figures
            }
        }
    }
}
