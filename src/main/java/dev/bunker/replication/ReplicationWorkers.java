package dev.bunker.replication;

import dev.bunker.config.BunkerConfig.ReplicationConfig;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication loop: {@code workers} threads that take jobs from the queue, run {@link CopyObject}
 * on each and hand the outcome to the {@link GroupCommit}, which publishes the staged copies and records
 * a whole batch of jobs in one transaction; plus one thread renewing the leases of the jobs in hand.
 * Jobs are claimed several per round trip ({@code batch.claim}) by whichever worker finds none in hand,
 * each claim under its own owner id, and a job whose lease could not be renewed is marked lost, so its
 * worker stops writing to stores and records nothing. Workers hold no other state: any number of
 * processes on any number of machines can run them against one database. {@link #runOnce} runs one
 * job without the loop and commits it before returning.
 */
public final class ReplicationWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationWorkers.class);

    /** A job a worker of this process holds, and whether its lease has been lost. */
    private record InHand(UUID owner, java.util.concurrent.atomic.AtomicBoolean lost) implements CopyObject.Lease {
        @Override
        public boolean held() { return !lost.get(); }
    }

    /** A claimed job and its lease. */
    private record Claimed(Job job, InHand lease) {}

    private final ReplicationConfig config;
    private final ReplicationJobs jobs;
    private final CopyObject copy;
    private final GroupCommit commit;
    private final CircuitBreakers breakers;
    private final Map<Long, InHand> inHand = new ConcurrentHashMap<>();
    /** Claimed jobs no worker has started yet: the claimer keeps about one per worker ready, so no worker waits on a claim. */
    private final java.util.concurrent.LinkedBlockingQueue<Claimed> ready = new java.util.concurrent.LinkedBlockingQueue<>();
    private final Object wake = new Object();
    private volatile boolean running;
    private ExecutorService loop;
    private Thread claimer;
    private ScheduledExecutorService renewer;

    ReplicationWorkers(ReplicationConfig config, ReplicationJobs jobs, CopyObject copy, GroupCommit commit, CircuitBreakers breakers) {
        this.config = config;
        this.jobs = jobs;
        this.copy = copy;
        this.commit = commit;
        this.breakers = breakers;
    }

    public void start() {
        running = true;
        commit.start();
        AtomicInteger n = new AtomicInteger();
        loop = Executors.newFixedThreadPool(config.workers(), r -> new Thread(r, "replicate-" + n.incrementAndGet()));
        for (int i = 0; i < config.workers(); i++) loop.submit(this::work);
        claimer = new Thread(this::claimLoop, "replicate-claim");
        claimer.setDaemon(true);
        claimer.start();
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replicate-lease");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(500, config.lease().toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renewLeases, every, every, TimeUnit.MILLISECONDS);
    }

    /** Claims now (new work was enqueued in this process, or the workers are running short of claimed jobs). */
    public void nudge() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void work() {
        while (running) {
            try {
                Claimed next = ready.poll(config.poll().toMillis(), TimeUnit.MILLISECONDS);
                if (next == null) continue;
                if (ready.size() < config.workers()) nudge();
                commit.submit(process(next));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("replication worker: {}", e.toString());
            }
        }
    }

    /**
     * Keeps claimed jobs ready for the workers, claiming {@code batch.claim} per round trip whenever fewer than
     * one per worker are waiting, so a claim's commit (a WAL flush competing with the copies' fsyncs) never
     * holds a worker up; sleeps for {@code poll} (or until nudged) when the queue has nothing ready.
     */
    private void claimLoop() {
        while (running) {
            try {
                boolean claimedSome = false;
                if (ready.size() < config.workers()) {
                    UUID owner = UUID.randomUUID();
                    List<Job> got = jobs.claim(owner, config.lease(), config.batching().claim());
                    for (Job job : got) ready.add(hold(job, owner));
                    claimedSome = !got.isEmpty();
                }
                if (!claimedSome || ready.size() >= config.workers()) idle();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("replication: claiming jobs failed: {}", e.toString());
                try {
                    idle();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void idle() throws InterruptedException {
        long jitter = ThreadLocalRandom.current().nextLong(Math.max(1, config.poll().toMillis() / 4 + 1));
        synchronized (wake) {
            if (running) wake.wait(config.poll().toMillis() + jitter);
        }
    }

    private Claimed hold(Job job, UUID owner) {
        InHand lease = new InHand(owner, new java.util.concurrent.atomic.AtomicBoolean());
        inHand.put(job.id(), lease);
        return new Claimed(job, lease);
    }

    /** Claims and runs one job, and commits it before returning; false if there was none ready. */
    public boolean runOnce() throws SQLException, InterruptedException {
        UUID me = UUID.randomUUID();
        List<Job> one = jobs.claim(me, config.lease(), 1);
        if (one.isEmpty()) return false;
        commit.commit(List.of(process(hold(one.get(0), me))));
        return true;
    }

    /** Runs jobs until none is ready (for tests and the CLI); returns how many ran. */
    public int drain() throws SQLException, InterruptedException {
        int n = 0;
        while (runOnce()) n++;
        return n;
    }

    /** Copies the job's object; what it did waits in the returned job for the group commit. */
    private GroupCommit.Finished process(Claimed c) throws SQLException, InterruptedException {
        Job job = c.job();
        InHand lease = c.lease();
        List<String> targets = job.targets() != null ? job.targets() : config.targetsFor(job.key());
        List<String> tryNow = new ArrayList<>();
        List<String> breakerOpen = new ArrayList<>();
        Instant retryAt = null;
        for (String t : targets) {
            var open = breakers.openUntil(t);
            if (open.isPresent()) {
                breakerOpen.add(t);
                if (retryAt == null || open.get().isBefore(retryAt)) retryAt = open.get();
            } else {
                tryNow.add(t);
            }
        }
        CopyObject.Outcome outcome;
        try {
            outcome = tryNow.isEmpty() ? CopyObject.Outcome.gone() : copy.copy(job.key(), tryNow, lease, job.attempts() <= 1);
        } catch (SQLException | InterruptedException | RuntimeException e) {
            inHand.remove(job.id()); // the lease runs out and the job is claimed again
            throw e;
        }
        return new GroupCommit.Finished(job, lease.owner(), lease, new FinishJob.Attempt(outcome, breakerOpen, retryAt, tryNow.isEmpty()),
                done -> finished(job, done));
    }

    /** After the group commit: the job leaves our hands, and the stores' breakers learn how it went. */
    private void finished(Job job, CopyObject.Outcome outcome) {
        inHand.remove(job.id());
        if (outcome.leaseLost()) {
            LOG.warn("replication of {}: the lease was lost (this worker stalled longer than {}); another worker takes over", job.key(),
                    config.lease());
            return;
        }
        for (String t : outcome.verifiedStores()) breakers.success(t);
        for (String t : outcome.failed().keySet()) if (!outcome.permanent().contains(t)) breakers.failure(t);
    }

    /** Gives back the claimed jobs no worker started, so another process need not wait for their leases. */
    private void releaseUnstarted() {
        List<ReplicationJobs.Held> unstarted = new ArrayList<>();
        for (Claimed c; (c = ready.poll()) != null; ) {
            unstarted.add(new ReplicationJobs.Held(c.job(), c.lease().owner()));
            inHand.remove(c.job().id());
        }
        try {
            jobs.release(unstarted);
        } catch (SQLException e) {
            LOG.warn("replication: could not give back {} claimed jobs; they run again after their leases: {}", unstarted.size(), e.toString());
        }
    }

    private void renewLeases() {
        try {
            Map<Long, UUID> held = new HashMap<>();
            Map<Long, InHand> snapshot = new HashMap<>(inHand);
            snapshot.forEach((id, h) -> held.put(id, h.owner()));
            Set<Long> renewed = jobs.renew(config.lease(), held);
            snapshot.forEach((id, h) -> {
                if (!renewed.contains(id) && inHand.get(id) == h) h.lost().set(true);
            });
        } catch (Exception e) {
            LOG.warn("could not renew replication leases: {}", e.toString());
        }
    }

    /**
     * Stops claiming, lets jobs in hand finish for up to {@code grace} and commits them; unfinished ones, and
     * claimed ones no worker started, are picked up again after their lease.
     */
    public void stop(Duration grace) {
        running = false;
        nudge();
        if (claimer != null) claimer.interrupt();
        if (loop != null) {
            loop.shutdown();
            try {
                if (!loop.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) loop.shutdownNow();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                loop.shutdownNow();
            }
        }
        commit.close();
        releaseUnstarted();
        if (renewer != null) renewer.shutdownNow();
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(2));
    }
}
