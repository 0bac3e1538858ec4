package dev.bunker.replication;

import dev.bunker.config.BunkerConfig.ReplicationConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * run {@link CopyObject} on it and record the outcome, plus one thread renewing the leases of the
 * jobs in hand. Workers hold no state of their own: any number of processes on any number of
 * machines can run them against one database. {@link #runOnce} runs one step without the loop.
 */
public final class ReplicationWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationWorkers.class);

    private final ReplicationConfig config;
    private final ReplicationJobs jobs;
    private final CopyObject copy;
    private final CircuitBreakers breakers;
    private final UUID owner;
    private final Set<Long> inHand = ConcurrentHashMap.newKeySet();
    private final Object wake = new Object();
    private volatile boolean running;
    private ExecutorService loop;
    private ScheduledExecutorService renewer;

    public ReplicationWorkers(ReplicationConfig config, ReplicationJobs jobs, CopyObject copy, CircuitBreakers breakers, UUID owner) {
        this.config = config;
        this.jobs = jobs;
        this.copy = copy;
        this.breakers = breakers;
        this.owner = owner;
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
        List<Job> claimed = jobs.claim(owner, config.lease(), 1);
        if (claimed.isEmpty()) return false;
        Job job = claimed.get(0);
        inHand.add(job.id());
        try {
            process(job);
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

    private void process(Job job) throws SQLException, InterruptedException {
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
        CopyObject.Outcome outcome = tryNow.isEmpty() ? CopyObject.Outcome.gone() : copy.copy(job.key(), tryNow);
        for (String t : outcome.verifiedStores()) breakers.success(t);
        for (String t : outcome.failed().keySet()) if (!outcome.permanent().contains(t)) breakers.failure(t);

        List<String> remaining = new ArrayList<>(outcome.failed().keySet());
        remaining.addAll(breakerOpen);
        boolean nothingTried = tryNow.isEmpty();
        boolean allPermanent = !outcome.permanent().isEmpty() && outcome.permanent().containsAll(remaining);
        boolean givingUp = allPermanent || (!nothingTried && !remaining.isEmpty() && job.attempts() >= config.maxAttempts());
        String error = outcome.failed().isEmpty() ? "circuit breaker open for " + breakerOpen
                : String.join("; ", outcome.failed().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList());
        // One transaction records the verified copies and finishes (or reschedules) the job.
        try (Connection c = jobs.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (outcome.learned() != null) {
                    Ledger.learn(c, job.key(), outcome.learned().size(), outcome.learned().sha256());
                    Ledger.copyVerified(c, job.key(), outcome.learned().source(), null, null, false);
                }
                for (CopyObject.Copy v : outcome.verified()) {
                    if (!v.recorded()) Ledger.copyVerified(c, job.key(), v.store(), v.storeChecksum(), v.retainUntil(), v.legalHold());
                }
                if (remaining.isEmpty()) {
                    ReplicationJobs.complete(c, job, owner, outcome.verifiedStores());
                } else {
                    Duration delay = nothingTried && retryAt != null ? Duration.between(Instant.now(), retryAt).plusMillis(100) : backoff(job.attempts());
                    ReplicationJobs.reschedule(c, job, owner, remaining, outcome.verifiedStores(), error,
                            delay.isNegative() ? Duration.ZERO : delay, nothingTried, allPermanent ? 0 : config.maxAttempts());
                    for (Map.Entry<String, String> f : outcome.failed().entrySet()) {
                        Ledger.mark(c, job.key(), f.getKey(), givingUp ? "failed" : "pending", f.getValue());
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        if (givingUp) LOG.warn("replication of {} failed for good after {} attempts: {}", job.key(), job.attempts(), error);
        else if (!outcome.failed().isEmpty()) LOG.info("replication of {} will be retried (attempt {}): {}", job.key(), job.attempts(), error);
    }

    /** Exponential backoff with jitter: retry-initial x 2^(attempt-1), capped at retry-max, times 0.5..1. */
    Duration backoff(int attempt) {
        double base = config.retryInitial().toMillis() * Math.pow(2, Math.max(0, attempt - 1));
        double capped = Math.min(base, config.retryMax().toMillis());
        return Duration.ofMillis((long) (capped * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5)));
    }

    private void renewLeases() {
        try {
            jobs.renew(owner, config.lease(), new ArrayList<>(inHand));
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
