package dev.bunker.replication;

import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.db.Tx;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that records what a replication job achieved: in one transaction, and only while the
 * worker still holds the job's lease (checked under a row lock, so a late worker whose lease another
 * has taken records nothing and can never downgrade a copy the other verified), it records the
 * verified copies, what was learned of the object and its sources, then completes the job or
 * reschedules it with backoff, or gives up after {@code max-attempts}.
 */
public final class FinishJob {
    private static final Logger LOG = LoggerFactory.getLogger(FinishJob.class);

    /**
     * What the copy step did, plus the targets skipped because their store's circuit breaker is open (and until when);
     * {@code nothingTried}: every target was skipped, so the claim does not count as an attempt.
     */
    public record Attempt(CopyObject.Outcome outcome, List<String> breakerOpen, Instant retryAt, boolean nothingTried) {}

    private final DataSource db;
    private final ReplicationConfig config;
    private final Clock clock;

    public FinishJob(DataSource db, ReplicationConfig config, Clock clock) {
        this.db = db;
        this.config = config;
        this.clock = clock;
    }

    /** One finished job to record: the job, the owner that claimed it, and what the attempt did. */
    public record Entry(Job job, UUID owner, Attempt attempt) {}

    /** What recording an attempt does to the job, decided before the transaction. */
    private record Plan(Entry entry, List<String> remaining, boolean allPermanent, boolean givingUp, String error) {
        static Plan of(Entry e, int maxAttempts) {
            CopyObject.Outcome outcome = e.attempt().outcome();
            List<String> remaining = new ArrayList<>(outcome.failed().keySet());
            remaining.addAll(e.attempt().breakerOpen());
            boolean allPermanent = !outcome.permanent().isEmpty() && outcome.permanent().containsAll(remaining);
            boolean givingUp = allPermanent || (!e.attempt().nothingTried() && !remaining.isEmpty() && e.job().attempts() >= maxAttempts);
            String error = outcome.failed().isEmpty() ? "circuit breaker open for " + e.attempt().breakerOpen()
                    : String.join("; ", outcome.failed().entrySet().stream().map(f -> f.getKey() + ": " + f.getValue()).toList());
            return new Plan(e, remaining, allPermanent, givingUp, error);
        }
    }

    /**
     * Records every entry in ONE transaction (in job id order, so two processes' batches lock rows in the same
     * order); says per entry whether it was recorded (false: its owner no longer holds the job). If the batch
     * fails as a whole, each entry is tried in its own transaction, so one bad entry does not hold back the rest.
     */
    public List<Boolean> recordAll(List<Entry> entries) throws SQLException {
        Instant now = clock.instant();
        List<Plan> plans = new ArrayList<>();
        for (Entry e : entries) plans.add(Plan.of(e, config.maxAttempts()));
        plans.sort(java.util.Comparator.comparingLong(p -> p.entry().job().id()));
        // by identity: an entry's record hash walks its whole outcome (lists, maps), several times per entry
        Map<Entry, Boolean> recorded = new java.util.IdentityHashMap<>();
        try {
            Tx.run(db, c -> {
                applyAll(c, plans, now, recorded);
                return null;
            });
        } catch (SQLException batchFailed) {
            if (plans.size() == 1) throw batchFailed;
            LOG.warn("recording {} finished replication jobs together failed ({}); recording them one by one", plans.size(),
                    batchFailed.toString());
            recorded.clear();
            for (Plan p : plans) {
                try {
                    Tx.run(db, c -> {
                        applyAll(c, List.of(p), now, recorded);
                        return null;
                    });
                } catch (SQLException e) {
                    LOG.warn("replication of {}: recording the attempt failed ({}); the job runs again after its lease", p.entry().job().key(),
                            e.toString());
                    recorded.put(p.entry(), null); // neither recorded nor dropped: logged here
                }
            }
        }
        for (Plan p : plans) if (recorded.get(p.entry()) != null) log(p, recorded.get(p.entry()));
        List<Boolean> out = new ArrayList<>();
        for (Entry e : entries) out.add(Boolean.TRUE.equals(recorded.get(e)));
        return out;
    }

    /**
     * Records the plans in one transaction, set-wise where the work is the same for every job: one statement locks
     * the jobs still held, one batch each records what was learned of their objects and their verified copies, one statement completes the finished ones.
     */
    private void applyAll(java.sql.Connection c, List<Plan> plans, Instant now, Map<Entry, Boolean> recorded) throws SQLException {
        List<ReplicationJobs.Held> all = plans.stream().map(p -> new ReplicationJobs.Held(p.entry().job(), p.entry().owner())).toList();
        java.util.Set<Long> held = ReplicationJobs.holdsAll(c, all);
        // the objects whose copies this batch records next, all in key order, as every writer of several holds them (CopyRecords)
        CopyRecords.lockObjects(c, plans.stream().filter(p -> held.contains(p.entry().job().id()) && writesCopies(p.entry().attempt().outcome()))
                .map(p -> p.entry().job().key()).toList());
        List<Ledger.Learned> learned = new ArrayList<>();
        List<CopyRecords.VerifiedCopy> copies = new ArrayList<>();
        List<ReplicationJobs.Held> complete = new ArrayList<>();
        Map<Long, List<String>> done = new java.util.HashMap<>();
        List<Plan> retry = new ArrayList<>();
        for (Plan plan : plans) {
            Job job = plan.entry().job();
            boolean mine = held.contains(job.id());
            recorded.put(plan.entry(), mine);
            if (!mine) continue;
            CopyObject.Outcome outcome = plan.entry().attempt().outcome();
            if (outcome.learned() != null) {
                learned.add(new Ledger.Learned(job.key(), outcome.learned().size(), outcome.learned().sha256()));
                copies.add(new CopyRecords.VerifiedCopy(job.key(), outcome.learned().source(), null, null, null, false));
            }
            for (Map.Entry<String, CopyObject.SourceProblem> p : outcome.sourceProblems().entrySet()) {
                CopyRecords.mark(c, job.key(), p.getKey(), p.getValue().state(), p.getValue().why());
            }
            for (CopyObject.Copy v : outcome.verified()) {
                if (!v.recorded()) copies.add(new CopyRecords.VerifiedCopy(job.key(), v.store(), v.storeChecksum(), v.versionId(), v.retainUntil(), v.legalHold()));
            }
            if (plan.remaining().isEmpty()) {
                complete.add(new ReplicationJobs.Held(job, plan.entry().owner()));
                done.put(job.id(), outcome.verifiedStores());
            } else {
                retry.add(plan);
            }
        }
        Ledger.learnAll(c, learned);
        CopyRecords.copiesVerified(c, copies, now);
        ReplicationJobs.completeAll(c, complete, done);
        for (Plan plan : retry) reschedule(c, plan, now);
    }

    /** Whether recording the outcome changes its object's row or copies (learned facts, verified copies, marks). */
    private static boolean writesCopies(CopyObject.Outcome o) {
        return o.learned() != null || !o.sourceProblems().isEmpty() || !o.failed().isEmpty() || o.verified().stream().anyMatch(v -> !v.recorded());
    }

    private void reschedule(java.sql.Connection c, Plan plan, Instant now) throws SQLException {
        Job job = plan.entry().job();
        Attempt attempt = plan.entry().attempt();
        CopyObject.Outcome outcome = attempt.outcome();
        boolean nothingTried = attempt.nothingTried();
        Duration delay = nothingTried && attempt.retryAt() != null
                ? Duration.between(now, attempt.retryAt()).plusMillis(100) : backoff(job.attempts());
        ReplicationJobs.reschedule(c, job, plan.entry().owner(), plan.remaining(), outcome.verifiedStores(), plan.error(),
                now.plus(delay.isNegative() ? Duration.ZERO : delay), nothingTried, plan.allPermanent() ? 0 : config.maxAttempts());
        for (Map.Entry<String, String> f : outcome.failed().entrySet()) {
            CopyRecords.markUnlessVerified(c, job.key(), f.getKey(), plan.givingUp() ? CopyState.FAILED : CopyState.PENDING, f.getValue());
        }
    }

    private static void log(Plan p, boolean recorded) {
        Job job = p.entry().job();
        if (!recorded) {
            LOG.info("replication of {}: another worker owns the job now; this attempt's results are dropped", job.key());
        } else if (p.givingUp()) {
            LOG.warn("replication of {} failed for good after {} attempts: {}", job.key(), job.attempts(), p.error());
        } else if (!p.entry().attempt().outcome().failed().isEmpty()) {
            LOG.info("replication of {} will be retried (attempt {}): {}", job.key(), job.attempts(), p.error());
        }
    }

    /** Exponential backoff with jitter: retry-initial x 2^(attempt-1), capped at retry-max, times 0.5..1. */
    Duration backoff(int attempt) {
        double base = config.retryInitial().toMillis() * Math.pow(2, Math.max(0, attempt - 1));
        double capped = Math.min(base, config.retryMax().toMillis());
        return Duration.ofMillis((long) (capped * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5)));
    }
}
