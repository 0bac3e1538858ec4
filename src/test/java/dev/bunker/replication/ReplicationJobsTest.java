package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.db.Database;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue's lease rules on a real PostgreSQL: a held job is never claimed twice, a lease that runs out
 * is freed by a later claim and the job goes to the next worker, and the worker that lost it can
 * neither renew nor finish it.
 */
@Timeout(60)
class ReplicationJobsTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    Database db;

    @AfterEach
    void close() {
        if (db != null) db.close();
    }

    ReplicationJobs queue(int jobs) throws Exception {
        db = Database.open(TestDatabase.fresh(), dir);
        try (Connection c = db.connection(); Statement s = c.createStatement()) {
            s.execute("insert into objects (key, size) select 'k' || g, 1 from generate_series(1, " + jobs + ") g");
            s.execute("insert into replication_jobs (key, not_before) select key, now() - interval '1 minute' from objects");
        }
        return new ReplicationJobs(db.dataSource(), clock);
    }

    @Test
    void heldJobsAreSkippedAndAnExpiredLeaseGoesToTheNextWorkerOnly() throws Exception {
        ReplicationJobs jobs = queue(3);
        UUID first = UUID.randomUUID();
        List<Job> held = jobs.claim(first, LEASE, 2);
        assertThat(held).hasSize(2);
        UUID second = UUID.randomUUID();
        List<Job> rest = jobs.claim(second, LEASE, 10);
        assertThat(rest).hasSize(1).extracting(Job::key).doesNotContainAnyElementsOf(held.stream().map(Job::key).toList());
        assertThat(jobs.claim(UUID.randomUUID(), LEASE, 10)).as("every job is held").isEmpty();

        // The first worker stalls past its lease; the second keeps renewing its own.
        clock.advance(LEASE.plusSeconds(1));
        assertThat(jobs.renew(LEASE, Map.of(rest.get(0).id(), second))).containsExactly(rest.get(0).id());
        UUID third = UUID.randomUUID();
        List<Job> reclaimed = jobs.claim(third, LEASE, 10);
        assertThat(reclaimed).extracting(Job::id).containsExactlyInAnyOrderElementsOf(held.stream().map(Job::id).toList());
        assertThat(reclaimed).allSatisfy(j -> assertThat(j.attempts()).isEqualTo(2));

        // The stalled worker wakes up: its lease is gone, and so is any way to record the job.
        assertThat(jobs.renew(LEASE, Map.of(held.get(0).id(), first))).isEmpty();
        try (Connection c = db.connection()) {
            assertThat(ReplicationJobs.holdsAll(c, held.stream().map(j -> new ReplicationJobs.Held(j, first)).toList())).isEmpty();
            assertThat(ReplicationJobs.holdsAll(c, reclaimed.stream().map(j -> new ReplicationJobs.Held(j, third)).toList()))
                    .containsExactlyInAnyOrderElementsOf(held.stream().map(Job::id).toList());
        }
    }

    @Test
    void theLagReadsTheOldestPendingJobWithoutWalkingPastFailedOnes() throws Exception {
        queue(30_000);
        try (Connection c = db.connection(); Statement s = c.createStatement()) {
            // A store was down: every job so far failed; one pending job, an hour old, comes after them all.
            s.execute("update replication_jobs set state = 'failed'");
            s.execute("insert into objects (key, size) values ('late', 1)");
            s.execute("insert into replication_jobs (key, enqueued_at) values ('late', now() - interval '1 hour')");
            s.execute("vacuum analyze replication_jobs"); // as autovacuum does on the busy queue
            try (ResultSet rs = s.executeQuery(ReplicationStatus.LAG)) {
                rs.next();
                assertThat(rs.getDouble(1)).isBetween(3590.0, 3700.0);
            }
            try (ResultSet rs = s.executeQuery("explain (analyze, buffers, format json) " + ReplicationStatus.LAG)) {
                rs.next();
                String plan = rs.getString(1);
                // Buffer counts are cumulative: the top node's, the largest, is the whole query's.
                long hit = 0;
                long read = 0;
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"Shared (Hit|Read) Blocks\": (\\d+)").matcher(plan);
                while (m.find()) {
                    if (m.group(1).equals("Hit")) hit = Math.max(hit, Long.parseLong(m.group(2)));
                    else read = Math.max(read, Long.parseLong(m.group(2)));
                }
                long buffers = hit + read;
                assertThat(buffers).as("pages read by the lag query:\n" + plan).isLessThan(20);
            }
        }
    }
}
