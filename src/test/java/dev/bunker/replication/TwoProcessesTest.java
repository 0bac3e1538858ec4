package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code bunker serve} processes on one database share the queue: every object is copied, both
 * processes take part, and no object is ever being copied by both at the same time.
 */
@Timeout(240)
class TwoProcessesTest {
    @TempDir Path dir;
    static final Pattern LINE = Pattern.compile("^(\\S+) DEBUG CopyObject - copy (start|end) (\\S+)");
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");

    record Span(int process, long start, long end) {}

    @Test
    void twoProcessesCopyEverythingAndNeverTheSameObjectAtOnce() throws Exception {
        Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        List<Process> serves = new ArrayList<>();
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
             Replication replication = Engine.replication(bunker)) {
            for (int p = 0; p < 2; p++) {
                serves.add(ChildJvm.builder(List.of("-Dorg.slf4j.simpleLogger.log.dev.bunker.replication.CopyObject=debug"),
                                BunkerCommand.class, "serve", "--config", configFile.toString(), "--data-dir", dir.resolve("node" + p).toString(),
                                "--listen", "127.0.0.1:0")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("node" + p + ".log").toFile()).start());
            }
            for (int p = 0; p < 2; p++) {
                Path log = dir.resolve("node" + p + ".log");
                long until = System.nanoTime() + 60_000_000_000L;
                while (!(Files.exists(log) && Files.readString(log).contains("bunker: serving")) && System.nanoTime() < until) Thread.sleep(100);
                assertThat(Files.readString(log)).as("node %d started (its log)", p).contains("bunker: serving");
            }
            Random random = new Random(3);
            int n = 150;
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[20_000 + random.nextInt(200_000)];
                random.nextBytes(data);
                replication.ingest().put("obj/" + i, new ByteArrayInputStream(data), data.length, null, null);
            }
            long deadline = System.nanoTime() + 90_000_000_000L;
            ReplicationStatus.Snapshot s;
            do {
                Thread.sleep(250);
                s = replication.status().read();
            } while ((s.queueDepth() > 0 || s.copiesByStore().getOrDefault("shelter", Map.of()).getOrDefault("verified", 0L) < n)
                    && System.nanoTime() < deadline);
            assertThat(s.copiesByStore().get("vault")).containsEntry("verified", (long) n);
            assertThat(s.copiesByStore().get("shelter")).containsEntry("verified", (long) n);
            assertThat(s.queueDepth()).isZero();
            // Every object again, three times over: now each key has several jobs in its life, taken by either process,
            // so the overlap check below compares spans of one key that could have collided.
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < n; i++) replication.jobs().enqueue("obj/" + i, null);
                long until = System.nanoTime() + 60_000_000_000L;
                do {
                    Thread.sleep(100);
                } while (replication.status().read().queueDepth() > 0 && System.nanoTime() < until);
                assertThat(replication.status().read().queueDepth()).as("round %d drained", round).isZero();
            }
        } finally {
            for (Process p : serves) p.toHandle().destroy();
            for (Process p : serves) p.waitFor();
        }

        Map<String, List<Span>> spans = new HashMap<>();
        int[] perProcess = new int[2];
        for (int p = 0; p < 2; p++) {
            Map<String, Long> open = new HashMap<>();
            for (String line : Files.readAllLines(dir.resolve("node" + p + ".log"))) {
                Matcher m = LINE.matcher(line);
                if (!m.find()) continue;
                long t = OffsetDateTime.parse(m.group(1), TIME).toInstant().toEpochMilli();
                if (m.group(2).equals("start")) {
                    open.put(m.group(3), t);
                } else {
                    spans.computeIfAbsent(m.group(3), k -> new ArrayList<>()).add(new Span(p, open.remove(m.group(3)), t));
                    perProcess[p]++;
                }
            }
        }
        assertThat(spans).hasSize(150);
        assertThat(perProcess[0]).as("process 0 copied some").isPositive();
        assertThat(perProcess[1]).as("process 1 copied some").isPositive();
        assertThat(spans.values().stream().filter(l -> l.size() >= 2).count()).as("keys with several copy spans to compare").isGreaterThan(100);
        assertThat(spans.values().stream().filter(l -> l.stream().map(Span::process).distinct().count() == 2).count())
                .as("keys worked on by both processes at some time").isPositive();
        for (Map.Entry<String, List<Span>> e : spans.entrySet()) {
            List<Span> list = e.getValue();
            for (int i = 0; i < list.size(); i++) {
                for (int j = i + 1; j < list.size(); j++) {
                    Span a = list.get(i);
                    Span b = list.get(j);
                    assertThat(a.end() < b.start() || b.end() < a.start()).as("%s copied by two processes at once: %s %s", e.getKey(), a, b).isTrue();
                }
            }
        }
    }
}
