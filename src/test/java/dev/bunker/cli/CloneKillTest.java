package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bunker db clone} killed outright (SIGKILL, power) while it spools unscrubbed rows: what it left, its private
 * database on the server and its work folder (the decrypted dump, the spool) under the data directory, is removed by
 * the next run, which clones.
 */
@Timeout(300)
class CloneKillTest {
    @TempDir Path dir;

    @Test
    void aCloneKilledWhileSpoolingLeavesNothingTheNextRunDoesNotRemove() throws Exception {
        CloneFixture f = CloneFixture.backedUp(dir, "create table people (id bigint primary key, email text, phone text, nickname text, bio text)",
                "insert into people select g, 'p' || g || '@corp.example.org', '+44 20 ' || g, 'nick' || g, repeat(md5(g::text), 4) "
                        + "from generate_series(1, 400000) g");
        String target = "clone_kill_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        Path scrub = dir.resolve("scrub.yaml");
        // fake-* columns: the table is spooled to the work folder before it loads
        Files.writeString(scrub, "public.people.email: fake-email\npublic.people.phone: hash\npublic.people.nickname: fake-name\n");
        String[] clone = f.cloneArgs(scrub, target);
        Path tmp = Path.of(f.dataDir()).resolve("tmp");

        Path log = dir.resolve("clone.log");
        Process child = ChildJvm.builder(BunkerCommand.class, clone).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Optional<Path> spool = Optional.empty();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (child.isAlive() && System.nanoTime() < deadline && (spool = spool(tmp)).isEmpty()) Thread.sleep(10);
            assertThat(spool).as("a spool appeared; clone log: %s", Files.readString(log)).isPresent();
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Path work = tmp.relativize(spool.get()).getName(0);
        assertThat(work.toString()).startsWith("restore-p" + child.pid() + "-");
        assertThat(tmp.resolve(work)).as("the killed run's folder is still there").isDirectory();
        assertThat(CloneStopTest.databases(f, target)).singleElement().satisfies(d -> assertThat(d).startsWith(target + "_bunker_clone_"));

        CliTest.Result next = CliTest.run(clone);
        assertThat(next.exit()).as(next.err()).isZero();
        assertThat(next.err()).contains("left by an interrupted clone");
        assertThat(tmp.resolve(work)).as("the decrypted dump and the spool of the killed run").doesNotExist();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.toList()).as("nothing of the second run either").isEmpty();
        }
        assertThat(CloneStopTest.databases(f, target)).containsExactly(target);
        try (Connection c = f.connect(target);
             ResultSet rs = c.createStatement().executeQuery("select count(*), count(*) filter (where email like '%@corp.example.org') from people")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(400_000);
            assertThat(rs.getLong(2)).isZero();
        }
    }

    /** A spool file under one of the work folders of {@code tmp}, once one exists. */
    static Optional<Path> spool(Path tmp) throws Exception {
        if (!Files.isDirectory(tmp)) return Optional.empty();
        try (Stream<Path> all = Files.walk(tmp)) {
            List<Path> found = all.filter(p -> p.getFileName().toString().startsWith("spool-")).toList();
            return found.stream().findFirst();
        } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException racing) {
            return Optional.empty(); // a folder went away while it was walked
        }
    }
}
