package dev.bunker.replication;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The replication queue in PostgreSQL. A worker claims jobs in one statement (select ... for update
 * skip locked, then mark leased) and holds a short lease it renews while copying; a killed worker's
 * lease runs out, a later claim frees it (at most once a second) and the job is claimed again. A claimed
 * job leaves the ready index, so claims never step over jobs others hold. All SQL of the queue is here.
 */
public final class ReplicationJobs {
    static final String ENQUEUE = """
            insert into replication_jobs (key, targets, not_before) values (?, ?, ?)
            on conflict (key) do update set
                targets = case when replication_jobs.targets is null or excluded.targets is null then null
                               else array(select distinct t from unnest(replication_jobs.targets || excluded.targets) t) end,
                state = 'pending', attempts = 0, not_before = excluded.not_before, last_error = null,
                version = replication_jobs.version + 1
            """;
    /** Ready jobs nobody holds, oldest first (index replication_jobs_ready); a claimed job leaves that index. */
    static final String CLAIM = """
            update replication_jobs j
               set lease_owner = ?, lease_until = ?, attempts = j.attempts + 1
             where j.id in (select id from replication_jobs
                             where state = 'pending' and lease_owner is null and not_before <= ?
                             order by not_before, id
                             limit ?
                             for update skip locked)
            returning j.id, j.key, j.targets, j.attempts, j.version
            """;
    /** Frees the jobs whose lease ran out (their worker died or stalled): claimable again, their old owner can no longer finish them. */
    static final String EXPIRE_LEASES = """
            update replication_jobs set lease_owner = null, lease_until = null
             where lease_owner is not null and lease_until < ?
            """;
    static final String RENEW = """
            update replication_jobs j set lease_until = ?
              from unnest(?::uuid[], ?::bigint[]) as held(owner, id)
             where j.id = held.id and j.lease_owner = held.owner
            returning j.id
            """;
    /**
     * Locks the rows of the jobs their claims still hold, in id order, for the finishing transaction (a claim skips
     * locked rows).
     */
    static final String HOLDS_ALL = """
            select j.id from replication_jobs j
              join unnest(?::bigint[], ?::uuid[]) as h(id, owner) on j.id = h.id and j.lease_owner = h.owner
             order by j.id
               for update of j
            """;
    /** Deletes finished jobs that did not change (re-enqueued) meanwhile. */
    static final String DONE_ALL = """
            delete from replication_jobs j
             using unnest(?::bigint[], ?::uuid[], ?::int[]) as d(id, owner, version)
             where j.id = d.id and j.lease_owner = d.owner and j.version = d.version
            returning j.id
            """;
    static final String RESCHEDULE = """
            update replication_jobs
               set targets = ?, lease_owner = null, lease_until = null, last_error = ?,
                   not_before = ?,
                   attempts = greatest(0, attempts - ?),
                   state = case when attempts - ? >= ? then 'failed' else 'pending' end
             where id = ? and lease_owner = ? and version = ?
            """;
    /** The job changed while we worked on it: keep it, drop what we finished from its targets, let it run again. */
    static final String RELEASE_CHANGED = """
            update replication_jobs
               set lease_owner = null, lease_until = null,
                   targets = case when targets is null then null
                                  else array(select t from unnest(targets) t where t <> all(?)) end
             where id = ? and lease_owner = ?
            """;
    /** Claimed jobs given back unstarted: free for the next claim, and the claim's attempt not counted. */
    static final String UNCLAIM = """
            update replication_jobs j set lease_owner = null, lease_until = null, attempts = greatest(0, j.attempts - 1)
              from unnest(?::bigint[], ?::uuid[]) as h(id, owner)
             where j.id = h.id and j.lease_owner = h.owner
            """;
    static final String RETRY_ALL = """
            update replication_jobs set state = 'pending', attempts = 0, not_before = ?, lease_owner = null, lease_until = null
             where state = 'failed'
            """;
    static final String RETRY_KEY = RETRY_ALL.replace("where state = 'failed'", "where state = 'failed' and key = ?");

    private static final Duration SWEEP_EVERY = Duration.ofSeconds(1);

    private final DataSource db;
    private final Clock clock;
    private volatile Instant lastSweep = Instant.MIN;

    /** Times in the queue (ready at, leased until) come from {@code clock}, so they move with a test's clock too. */
    public ReplicationJobs(DataSource db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Adds (or merges into the existing job) a job for {@code key}, ready at {@code now}; null targets mean "the policy's targets". */
    public static void enqueue(Connection c, String key, List<String> targets, Instant now) throws SQLException {
        enqueueAll(c, java.util.Collections.singletonMap(key, targets), now);
    }

    /** {@link #enqueue} for many keys in one round trip (a JDBC batch); {@code targets} per key, null for the policy's. */
    static void enqueueAll(Connection c, java.util.Map<String, List<String>> targets, Instant now) throws SQLException {
        if (targets.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
            for (java.util.Map.Entry<String, List<String>> e : targets.entrySet()) {
                ps.setString(1, e.getKey());
                ps.setArray(2, e.getValue() == null ? null : c.createArrayOf("text", e.getValue().toArray()));
                ps.setTimestamp(3, Timestamp.from(now));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    public void enqueue(String key, List<String> targets) throws SQLException {
        try (Connection c = db.getConnection()) {
            enqueue(c, key, targets, clock.instant());
        }
    }

    /** Claims up to {@code limit} ready jobs for {@code owner}; first frees expired leases, at most once a second. */
    public List<Job> claim(UUID owner, Duration lease, int limit) throws SQLException {
        Instant now = clock.instant();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(CLAIM)) {
            Instant last = lastSweep;
            if (now.isBefore(last) || !now.isBefore(last.plus(SWEEP_EVERY))) {
                lastSweep = now;
                try (PreparedStatement sweep = c.prepareStatement(EXPIRE_LEASES)) {
                    sweep.setTimestamp(1, Timestamp.from(now));
                    sweep.executeUpdate();
                }
            }
            ps.setObject(1, owner);
            ps.setTimestamp(2, Timestamp.from(now.plus(lease)));
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setInt(4, limit);
            List<Job> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array t = rs.getArray(3);
                    List<String> targets = t == null ? null : Arrays.asList((String[]) t.getArray());
                    out.add(new Job(rs.getLong(1), rs.getString(2), targets, rs.getInt(4), rs.getInt(5)));
                }
            }
            return out;
        }
    }

    /** Extends the leases of the jobs in {@code held} (job id: owner); returns the ids still held, the others are lost. */
    public java.util.Set<Long> renew(Duration lease, java.util.Map<Long, UUID> held) throws SQLException {
        java.util.Set<Long> renewed = new java.util.HashSet<>();
        if (held.isEmpty()) return renewed;
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RENEW)) {
            ps.setTimestamp(1, Timestamp.from(clock.instant().plus(lease)));
            ps.setArray(2, c.createArrayOf("uuid", held.values().toArray()));
            ps.setArray(3, c.createArrayOf("bigint", held.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) renewed.add(rs.getLong(1));
            }
        }
        return renewed;
    }

    /** A job and the owner that claimed it. */
    record Held(Job job, UUID owner) {}

    /** The ids of the jobs their claims still hold, their rows locked until the transaction ends. */
    static java.util.Set<Long> holdsAll(Connection c, List<Held> jobs) throws SQLException {
        java.util.Set<Long> held = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(HOLDS_ALL)) {
            ps.setArray(1, c.createArrayOf("bigint", jobs.stream().map(h -> h.job().id()).toArray()));
            ps.setArray(2, c.createArrayOf("uuid", jobs.stream().map(Held::owner).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) held.add(rs.getLong(1));
            }
        }
        return held;
    }

    /**
     * The jobs are done, in one statement; a job that changed (re-enqueued) meanwhile stays, minus the stores its
     * attempt finished ({@code done}, by job id).
     */
    static void completeAll(Connection c, List<Held> jobs, java.util.Map<Long, List<String>> done) throws SQLException {
        if (jobs.isEmpty()) return;
        java.util.Set<Long> deleted = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(DONE_ALL)) {
            ps.setArray(1, c.createArrayOf("bigint", jobs.stream().map(h -> h.job().id()).toArray()));
            ps.setArray(2, c.createArrayOf("uuid", jobs.stream().map(Held::owner).toArray()));
            ps.setArray(3, c.createArrayOf("integer", jobs.stream().map(h -> h.job().version()).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) deleted.add(rs.getLong(1));
            }
        }
        for (Held h : jobs) if (!deleted.contains(h.job().id())) release(c, h.job(), h.owner(), done.get(h.job().id()));
    }

    /**
     * Some targets remain: run the job again at {@code notBefore}. {@code uncount} takes back the claim's
     * attempt when nothing was tried (a store's circuit breaker was open). After {@code maxAttempts} the job is failed.
     */
    static void reschedule(Connection c, Job job, UUID owner, List<String> remaining, List<String> done, String error, Instant notBefore,
                           boolean uncount, int maxAttempts) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(RESCHEDULE)) {
            int back = uncount ? 1 : 0;
            ps.setArray(1, c.createArrayOf("text", remaining.toArray()));
            ps.setString(2, error);
            ps.setTimestamp(3, Timestamp.from(notBefore));
            ps.setInt(4, back);
            ps.setInt(5, back);
            ps.setInt(6, maxAttempts);
            ps.setLong(7, job.id());
            ps.setObject(8, owner);
            ps.setInt(9, job.version());
            if (ps.executeUpdate() == 0) release(c, job, owner, done);
        }
    }

    private static void release(Connection c, Job job, UUID owner, List<String> done) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(RELEASE_CHANGED)) {
            ps.setArray(1, c.createArrayOf("text", done.toArray()));
            ps.setLong(2, job.id());
            ps.setObject(3, owner);
            ps.executeUpdate();
        }
    }

    /** Gives back claimed jobs that were never started (the process is stopping). */
    public void release(List<Held> unstarted) throws SQLException {
        if (unstarted.isEmpty()) return;
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(UNCLAIM)) {
            ps.setArray(1, c.createArrayOf("bigint", unstarted.stream().map(h -> h.job().id()).toArray()));
            ps.setArray(2, c.createArrayOf("uuid", unstarted.stream().map(Held::owner).toArray()));
            ps.executeUpdate();
        }
    }

    /** A job that gave up after its attempts, with the last error it met. */
    public record Failed(String key, int attempts, String lastError, Instant enqueuedAt) {}

    static final String FAILED = """
            select key, attempts, last_error, enqueued_at from replication_jobs where state = 'failed' order by id limit ?
            """;

    /** The oldest {@code limit} failed jobs. */
    public List<Failed> failed(int limit) throws SQLException {
        List<Failed> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(FAILED)) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Failed(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getTimestamp(4).toInstant()));
            }
        }
        return out;
    }

    /** Puts failed jobs (all, or one key's) back in the queue with fresh attempts; returns how many. */
    public int retryFailed(String key) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(key == null ? RETRY_ALL : RETRY_KEY)) {
            ps.setTimestamp(1, Timestamp.from(clock.instant()));
            if (key != null) ps.setString(2, key);
            return ps.executeUpdate();
        }
    }
}
