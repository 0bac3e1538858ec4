package dev.bunker.lifecycle;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
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
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A cleanup process SIGKILLed in the middle of a purge leaves a consistent state, and the next run completes it. */
@Timeout(180)
class PurgeCrashTest {
    @TempDir Path dir;

    /** Child: runs one purge whose deletes from the shelter crawl, so the test can kill it halfway. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> {
            FaultyStore f = new FaultyStore(s);
            if (s.name().equals("shelter")) f.deleteDelayMillis = 1500;
            return f;
        }); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
            lifecycle.purge().run(false, false, "child");
        }
    }

    @Test
    void aPurgeKilledHalfwayIsCompletedByTheNextRun() throws Exception {
        Path configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "2s", "lifecycle: {trash: 1s, cleanup-after: 1s, brake: 100%}");
        BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
             Replication replication = Engine.replication(bunker);
             Lifecycle lifecycle = Engine.lifecycle(bunker)) {
            for (int i = 0; i < 4; i++) {
                byte[] data = ("object " + i).getBytes();
                replication.ingest().put("k" + i, new ByteArrayInputStream(data), data.length, null, null);
            }
            replication.workers().drain();
            for (int i = 0; i < 4; i++) lifecycle.trash().trash("k" + i, "test");
            lifecycle.trash().empty(null, "test");
            assertThat(lifecycle.releaseHolds().run(10, false, "lifecycle")).isEqualTo(4);
            Thread.sleep(3_500); // past cleanup-after (1s) and the vault copies' retention (2s)

            Process child = ChildJvm.start(dir.resolve("child.log"), PurgeCrashTest.class, configFile.toString());
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (Files.exists(dir.resolve("primary/objects/k0")) && System.nanoTime() < deadline) Thread.sleep(20);
                assertThat(dir.resolve("primary/objects/k0")).as("the child started purging").doesNotExist();
            } finally {
                child.destroyForcibly().waitFor();
            }
            // Killed mid-purge: every object not yet gone everywhere is still in the ledger, none is half-forgotten.
            long rows = count(bunker, "select count(*) from objects");
            long tombstones = count(bunker, "select count(*) from tombstones");
            assertThat(rows + tombstones).isEqualTo(4);
            assertThat(rows).isPositive();
            assertThat(count(bunker, "select count(*) from objects where state <> 'deleted'")).isZero();

            PurgeExpired.Report r = lifecycle.purge().run(false, false, "lifecycle");
            assertThat(r.failed()).isEmpty();
            assertThat(count(bunker, "select count(*) from objects")).isZero();
            assertThat(count(bunker, "select count(*) from tombstones")).isEqualTo(4);
            for (String store : new String[] {"primary", "vault", "shelter"}) {
                for (int i = 0; i < 4; i++) assertThat(dir.resolve(store + "/objects/k" + i)).doesNotExist();
            }
        }
    }

    private static long count(Bunker bunker, String sql) throws Exception {
        try (Connection c = bunker.database().connection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
