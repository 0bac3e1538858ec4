package dev.bunker.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.replication.Replication;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An export process killed with SIGKILL mid-archive: the next `bunker export` resumes it, with every object exactly once. */
@Timeout(180)
class ExportCrashTest {
    @TempDir Path dir;

    /** Child: exports subscription u7 to args[1], reading the primary slowly so the test can kill it midway. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> {
            FaultyStore f = new FaultyStore(s);
            f.slowGetsOf = "users/7/";
            f.getDelayMillisPerMiB = 1200;
            return f;
        });
        Replication replication = Engine.replication(bunker);
        Exports exports = Engine.exports(bunker, replication);
        exports.checkpointBytes = 300_000;
        exports.run(new Exports.Request("u7", null, null, null, null, args[1], false), System.out::println);
        System.out.println("finished: not expected");
    }

    @Test
    void aKilledExportIsResumedByTheNextRunWithoutDuplicatesOrGaps() throws Exception {
        Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        Path out = dir.resolve("out");
        Random random = new Random(3);
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Replication replication = Engine.replication(bunker)) {
            for (int i = 0; i < 24; i++) {
                byte[] data = new byte[256 * 1024];
                random.nextBytes(data);
                replication.ingest().put("users/7/" + String.format("%02d", i) + ".jpg", new ByteArrayInputStream(data), data.length, null, null);
            }
            Exports exports = Engine.exports(bunker, replication);
            exports.subscribe("u7", "users/7/", null, null, "test");

            Process child = ChildJvm.start(dir.resolve("child.log"), ExportCrashTest.class, configFile.toString(), out.toString());
            ExportLedger.Delivery checkpointed = null;
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (System.nanoTime() < deadline && child.isAlive()) {
                    List<ExportLedger.Delivery> ds = exports.ledger().deliveries("u7", 1);
                    if (!ds.isEmpty() && ds.get(0).resumeOffset() != null && ds.get(0).doneObjects() >= 3) {
                        checkpointed = ds.get(0);
                        break;
                    }
                    Thread.sleep(50);
                }
            } finally {
                child.destroyForcibly().waitFor();
            }
            assertThat(checkpointed).as("a checkpoint before the kill; child log: %s", Files.readString(dir.resolve("child.log"))).isNotNull();
            ExportLedger.Delivery killed = exports.ledger().delivery(checkpointed.id()).orElseThrow();
            assertThat(killed.state()).isEqualTo("running");
            assertThat(killed.doneObjects()).isLessThan(24);
            Path partial = out.resolve(killed.fileName() + ".partial");
            assertThat(Files.size(partial)).as("the partial file holds at least what was recorded durable").isGreaterThanOrEqualTo(killed.resumeOffset());

            // The next run, from the command line as an operator would type it.
            int exit = BunkerCommand.run("export", "--config", configFile.toString(), "--subscription", "u7", "--to", out.toString());
            assertThat(exit).isZero();
            ExportLedger.Delivery done = exports.ledger().delivery(killed.id()).orElseThrow();
            assertThat(done.state()).isEqualTo("delivered");
            assertThat(done.objects()).isEqualTo(24);
            Path archive = out.resolve(done.fileName());
            assertThat(partial).doesNotExist();
            assertThat(ExportTest.sha256sumOf(archive)).isEqualTo(done.archiveSha256());
            List<String> entries = ExportTest.sh(dir, "tar", "-tf", archive.toString()).lines().toList();
            assertThat(entries.stream().filter(e -> e.startsWith("objects/"))).hasSize(24).doesNotHaveDuplicates();
            assertThat(entries).endsWith("MANIFEST.json", "SHA256SUMS");
            Path x = dir.resolve("x");
            Files.createDirectories(x);
            ExportTest.sh(x, "tar", "-xf", archive.toString());
            assertThat(ExportTest.sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS")).doesNotContain("FAILED");
            assertThat(ExportTest.sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS").lines().count()).isEqualTo(24);
        }
    }
}
