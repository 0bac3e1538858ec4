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
 * The replication loop: {@code workers} threads that each claim one job at a time from the queue,
 * run {@link CopyObject} on it and hand the outcome to {@link FinishJob}, plus one thread renewing
 * the leases of the jobs in hand. Each worker claims under its own owner id, and a job whose lease
 * could not be renewed is marked lost, so its worker stops writing to stores and records nothing.
 * Workers hold no other state: any number of processes on any number of machines can run them
 * against one database. {@link #runOnce} runs one step without the loop.
 */
public final class ReplicationWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationWorkers.class);

    /** A job a worker of this process holds, and whether its lease has been lost. */
    private record InHand(UUID owner, java.util.concurrent.atomic.AtomicBoolean lost) implements CopyObject.Lease {
        @Override
        public boolean held() { return !lost.get(); }
    }

    private final ReplicationConfig config;
    private final ReplicationJobs jobs;
    private final CopyObject copy;
    private final FinishJob finish;
    private final CircuitBreakers breakers;
    private final Map<Long, InHand> inHand = new ConcurrentHashMap<>();
    private final ThreadLocal<UUID> owner = ThreadLocal.withInitial(UUID::randomUUID);
    private final Object wake = new Object();
    private volatile boolean running;
    private ExecutorService loop;
    private ScheduledExecutorService renewer;

    public ReplicationWorkers(ReplicationConfig config, ReplicationJobs jobs, CopyObject copy, FinishJob finish, CircuitBreakers breakers) {
        this.config = config;
        this.jobs = jobs;
        this.copy = copy;
        this.finish = finish;
        this.breakers = breakers;
    }

    public void start() {
        running = true;
        AtomicInteger n = new AtomicInteger();
        loop = Executors.newFixedThreadPool(config.workers(), r -> new Thread(r, "replicate-" + n.incrementAndGet()));
        for (int i = 0; i < config.workers(); i++) loop.submit(this::work);
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replicate-lease");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(500, config.lease().toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renewLeases, every, every, TimeUnit.MILLISECONDS);
    }

    /** Wakes idle workers now (new work was enqueued in this process). */
    public void nudge() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void work() {
        while (running) {
            try {
                if (!runOnce()) idle();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("replication worker: {}", e.toString());
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

    /** Claims and runs one job; false if there was none ready. */
    public boolean runOnce() throws SQLException, InterruptedException {
        UUID me = owner.get();
        List<Job> claimed = jobs.claim(me, config.lease(), 1);
        if (claimed.isEmpty()) return false;
        Job job = claimed.get(0);
        InHand lease = new InHand(me, new java.util.concurrent.atomic.AtomicBoolean());
        inHand.put(job.id(), lease);
        try {
            process(job, lease);
        } finally {
            inHand.remove(job.id());
        }
        return true;
    }

    /** Runs jobs until none is ready (for tests and the CLI); returns how many ran. */
    public int drain() throws SQLException, InterruptedException {
        int n = 0;
        while (runOnce()) n++;
        return n;
    }

    private void process(Job job, InHand lease) throws SQLException, InterruptedException {
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
        CopyObject.Outcome outcome = tryNow.isEmpty() ? CopyObject.Outcome.gone() : copy.copy(job.key(), tryNow, lease);
        if (outcome.leaseLost()) {
            LOG.warn("replication of {}: the lease was lost (this worker stalled longer than {}); another worker takes over", job.key(),
                    config.lease());
            return;
        }
        for (String t : outcome.verifiedStores()) breakers.success(t);
        for (String t : outcome.failed().keySet()) if (!outcome.permanent().contains(t)) breakers.failure(t);
        finish.record(job, lease.owner(), new FinishJob.Attempt(outcome, breakerOpen, retryAt, tryNow.isEmpty()));
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

    /** Stops claiming, lets jobs in hand finish for up to {@code grace}; unfinished ones are picked up again after their lease. */
    public void stop(Duration grace) {
        running = false;
        nudge();
        if (loop != null) {
            loop.shutdown();
            try {
                if (!loop.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) loop.shutdownNow();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                loop.shutdownNow();
            }
        }
        if (renewer != null) renewer.shutdownNow();
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(2));
    }
}
