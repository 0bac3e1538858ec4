package dev.bunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Prometheus scrape reads what the background readings left, never the database: with the database gone, /metrics
 * still answers at once with the ledger's last figures (a ledger of a billion objects costs a scrape nothing).
 */
@Timeout(120)
class MetricsScrapeTest {
    @TempDir Path dir;

    @Test
    void aScrapeAnswersFromTheLastReadingWithTheDatabaseGone() throws Exception {
        try (Bunker bunker = Bunker.open(TestConfigs.threeLocalStores(dir), Clock.systemUTC())) {
            Engine engine = Engine.on(bunker);
            try {
                for (String key : new String[] {"a.txt", "b.txt", "c.txt"}) {
                    byte[] body = key.getBytes(StandardCharsets.UTF_8);
                    engine.replication().ingest().put(key, new ByteArrayInputStream(body), body.length, null, null);
                }
                engine.lifecycle().trash().trash("c.txt", "test");
                engine.replication().status().read(); // what serve's status refresher does every few seconds
                engine.lifecycle().status();

                bunker.database().close(); // no query can succeed from here on
                assertThatThrownBy(() -> bunker.database().ping()).isInstanceOf(java.sql.SQLException.class);
                long t0 = System.nanoTime();
                String scrape = bunker.metrics().scrape();
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertThat(scrape).contains("bunker_objects 3.0").contains("bunker_replication_queue_depth 3.0")
                        .contains("bunker_copies{state=\"verified\",store=\"primary\"} 3.0")
                        .contains("bunker_objects_by_state{state=\"trashed\"} 1.0").contains("bunker_objects_by_state{state=\"live\"} 2.0");
                assertThat(scrape.lines().filter(l -> l.startsWith("bunker_") && l.endsWith("NaN"))).as("every figure answered").isEmpty();
                assertThat(seconds).as("no connection attempt to wait for").isLessThan(2.0);
            } finally {
                engine.close();
            }
        }
    }
}
