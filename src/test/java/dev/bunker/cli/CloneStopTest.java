package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bunker db clone} stopped by SIGTERM (Ctrl-C, a deploy, systemd) while its private database holds unscrubbed
 * rows: the process drops that database on its way out, leaves no target behind, and the next clone runs.
 */
@Timeout(300)
class CloneStopTest {
    @TempDir Path dir;

    @Test
    void aCloneStoppedMidwayDropsItsUnscrubbedDatabaseAndTheNextCloneRuns() throws Exception {
        // large enough that restoring and scrubbing it takes seconds: the stop lands while the private database is loading
        CloneFixture f = CloneFixture.backedUp(dir, "create table people (id bigint primary key, email text, phone text, nickname text, bio text)",
                "insert into people select g, 'p' || g || '@corp.example.org', '+44 20 ' || g, 'nick' || g, repeat(md5(g::text), 4) "
                        + "from generate_series(1, 400000) g");
        String target = "clone_stop_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        Path scrub = dir.resolve("scrub.yaml");
        Files.writeString(scrub, "public.people.email: fake-email\npublic.people.phone: hash\npublic.people.nickname: fake-name\n");
        String[] clone = f.cloneArgs(scrub, target);

        Path log = dir.resolve("clone.log");
        Process child = ChildJvm.builder(BunkerCommand.class, clone).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        List<String> seen = List.of();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (child.isAlive() && System.nanoTime() < deadline && (seen = databases(f, target)).isEmpty()) Thread.sleep(20);
            assertThat(seen).as("the clone's private database appeared; clone log: %s", Files.readString(log)).hasSize(1);
            assertThat(seen.get(0)).startsWith(target + "_bunker_clone_");
            Thread.sleep(300); // into the restore of its rows
        } finally {
            child.destroy(); // SIGTERM
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the stopped clone exits").isTrue();
        String said = Files.readString(log);
        assertThat(said).as("stopped before it was done").doesNotContain("cloned app-dump-");
        assertThat(databases(f, target)).as("nothing left under the target's name or its private one; clone log: %s", said).isEmpty();

        CliTest.Result next = CliTest.run(clone);
        assertThat(next.exit()).as(next.err()).isZero();
        assertThat(next.err()).doesNotContain("left by an interrupted clone"); // the stopped one cleaned up after itself
        assertThat(databases(f, target)).containsExactly(target);
        try (Connection c = f.connect(target);
             ResultSet rs = c.createStatement().executeQuery("select count(*), count(*) filter (where email like '%@corp.example.org') from people")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(400_000);
            assertThat(rs.getLong(2)).isZero();
        }
    }

    /** Databases on the app's server named {@code prefix}, or starting with it. */
    static List<String> databases(CloneFixture f, String prefix) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = f.connect("postgres");
             ResultSet rs = c.createStatement().executeQuery("select datname from pg_database where datname like '" + prefix + "%' order by 1")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }
}
