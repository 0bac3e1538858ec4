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

    /** Records the attempt; false (and nothing recorded) if {@code owner} no longer holds the job. */
    public boolean record(Job job, UUID owner, Attempt attempt) throws SQLException {
        CopyObject.Outcome outcome = attempt.outcome();
        List<String> remaining = new ArrayList<>(outcome.failed().keySet());
        remaining.addAll(attempt.breakerOpen());
        boolean nothingTried = attempt.nothingTried();
        boolean allPermanent = !outcome.permanent().isEmpty() && outcome.permanent().containsAll(remaining);
        boolean givingUp = allPermanent || (!nothingTried && !remaining.isEmpty() && job.attempts() >= config.maxAttempts());
        String error = outcome.failed().isEmpty() ? "circuit breaker open for " + attempt.breakerOpen()
                : String.join("; ", outcome.failed().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList());
        Instant now = clock.instant();
        boolean recorded = Tx.run(db, c -> {
            if (!ReplicationJobs.holds(c, job, owner)) return false;
            if (outcome.learned() != null) {
                Ledger.learn(c, job.key(), outcome.learned().size(), outcome.learned().sha256());
                Ledger.copyVerified(c, job.key(), outcome.learned().source(), null, null, null, false, now);
            }
            for (Map.Entry<String, CopyObject.SourceProblem> p : outcome.sourceProblems().entrySet()) {
                Ledger.mark(c, job.key(), p.getKey(), p.getValue().state(), p.getValue().why());
            }
            for (CopyObject.Copy v : outcome.verified()) {
                if (!v.recorded()) Ledger.copyVerified(c, job.key(), v.store(), v.storeChecksum(), v.versionId(), v.retainUntil(), v.legalHold(), now);
            }
            if (remaining.isEmpty()) {
                ReplicationJobs.complete(c, job, owner, outcome.verifiedStores());
                return true;
            }
            Duration delay = nothingTried && attempt.retryAt() != null
                    ? Duration.between(now, attempt.retryAt()).plusMillis(100) : backoff(job.attempts());
            ReplicationJobs.reschedule(c, job, owner, remaining, outcome.verifiedStores(), error,
                    now.plus(delay.isNegative() ? Duration.ZERO : delay), nothingTried, allPermanent ? 0 : config.maxAttempts());
            for (Map.Entry<String, String> f : outcome.failed().entrySet()) {
                Ledger.markUnlessVerified(c, job.key(), f.getKey(), givingUp ? CopyState.FAILED : CopyState.PENDING, f.getValue());
            }
            return true;
        });
        if (!recorded) {
            LOG.info("replication of {}: another worker owns the job now; this attempt's results are dropped", job.key());
            return false;
        }
        if (givingUp) LOG.warn("replication of {} failed for good after {} attempts: {}", job.key(), job.attempts(), error);
        else if (!outcome.failed().isEmpty()) LOG.info("replication of {} will be retried (attempt {}): {}", job.key(), job.attempts(), error);
        return true;
    }

    /** Exponential backoff with jitter: retry-initial x 2^(attempt-1), capped at retry-max, times 0.5..1. */
    Duration backoff(int attempt) {
        double base = config.retryInitial().toMillis() * Math.pow(2, Math.max(0, attempt - 1));
        double capped = Math.min(base, config.retryMax().toMillis());
        return Duration.ofMillis((long) (capped * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5)));
    }
}
