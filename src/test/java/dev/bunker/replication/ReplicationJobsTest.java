package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.db.Database;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
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
}
