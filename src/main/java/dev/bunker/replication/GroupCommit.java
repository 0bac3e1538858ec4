package dev.bunker.replication;

import dev.bunker.config.BunkerConfig.Batching;
import dev.bunker.store.InvalidKeyException;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Publication;
import dev.bunker.store.Store;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for replication, as databases do it for their log: workers hand over finished jobs whose
 * copies are verified but only staged (written, not yet durable), and go on with the next job. The
 * committer takes a batch (at most {@code commit-copies} copies, waiting at most {@code commit-wait} for it
 * to fill), makes every staged copy of the batch durable and visible, store by store in one round of
 * fsyncs ({@link Store#publish}), then records every job of the batch in ONE transaction
 * ({@link FinishJob#recordAll}); the next batches publish while earlier ones are recorded. A copy never counts before its bytes are durable: a crash before the
 * transaction leaves durable copies nobody counted yet, which the job's next run finds and verifies.
 */
final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

    /** A job a worker has finished; {@code done} gets the attempt's final outcome once the batch is committed. */
    record Finished(Job job, UUID owner, CopyObject.Lease lease, FinishJob.Attempt attempt, Consumer<CopyObject.Outcome> done) {
        int copies() {
            return Math.max(1, attempt.outcome().pending().size());
        }
    }

    private final FinishJob finish;
    private final ReplicationMetrics metrics;
    private final Batching batching;
    private final BlockingQueue<Finished> queue;
    private final ExecutorService publishers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "replicate-publish");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Store> stores;
    /**
     * Batches are recorded by a few threads side by side: two batches never share a job (nor, one job per key, a
     * ledger row), so their transactions do not conflict, and the database flushes their commits together.
     */
    private static final int RECORDERS = 3;
    private final BlockingQueue<Settled> recording = new ArrayBlockingQueue<>(RECORDERS);
    private volatile boolean running;
    private volatile boolean publishing;
    private Thread committer;
    private final List<Thread> recorders = new ArrayList<>();

    GroupCommit(Map<String, Store> stores, FinishJob finish, ReplicationMetrics metrics, Batching batching) {
        this.stores = stores;
        this.finish = finish;
        this.metrics = metrics;
        this.batching = batching;
        this.queue = new ArrayBlockingQueue<>(batching.commitCopies());
    }

    void start() {
        running = true;
        publishing = true;
        committer = new Thread(this::run, "replicate-commit");
        committer.setDaemon(true);
        committer.start();
        for (int i = 1; i <= RECORDERS; i++) {
            Thread recorder = new Thread(this::recordLoop, "replicate-record-" + i);
            recorder.setDaemon(true);
            recorder.start();
            recorders.add(recorder);
        }
    }

    private void recordLoop() {
        while (publishing || !recording.isEmpty()) {
            try {
                Settled s = recording.poll(200, TimeUnit.MILLISECONDS);
                if (s != null) record(s);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warn("replication group commit: {}", e.toString());
            }
        }
    }

    /** Hands a finished job to the committer; waits while a full batch is already queued (the disk sets the pace). */
    void submit(Finished f) throws InterruptedException {
        if (!running) {
            commit(List.of(f));
            return;
        }
        queue.put(f);
    }

    private void run() {
        while (running || !queue.isEmpty()) {
            try {
                Finished first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                List<Finished> batch = new ArrayList<>(List.of(first));
                int copies = first.copies();
                long deadline = System.nanoTime() + batching.commitWait().toNanos();
                while (copies < batching.commitCopies()) {
                    Finished next = queue.poll();
                    if (next == null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0 || (next = queue.poll(left, TimeUnit.NANOSECONDS)) == null) break;
                    }
                    batch.add(next);
                    copies += next.copies();
                }
                recording.put(settle(batch)); // the next batch publishes while this one is recorded
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warn("replication group commit: {}", e.toString());
            }
        }
    }

    /** Publishes the batch's staged copies, then records its jobs in one transaction, then tells each worker. */
    void commit(List<Finished> batch) {
        record(settle(batch));
    }

    /** A batch whose staged copies are published (or failed), with each job's final outcome, ready to record. */
    private record Settled(List<Finished> batch, List<CopyObject.Outcome> outcomes, int published, long publishMillis) {}

    private Settled settle(List<Finished> batch) {
        long t0 = System.nanoTime();
        Map<String, List<Publication>> byStore = new LinkedHashMap<>();
        for (Finished f : batch) {
            for (CopyObject.Pending p : f.attempt().outcome().pending()) {
                if (!f.lease().held()) p.staged().discard(); // another worker owns the job now
                else byStore.computeIfAbsent(p.store(), s -> new ArrayList<>()).add(new Publication(p.staged(), p.lock()));
            }
        }
        Map<Publication, Publication.Outcome> published = publishAll(byStore);
        List<CopyObject.Outcome> outcomes = new ArrayList<>();
        for (Finished f : batch) outcomes.add(f.lease().held() ? resolve(f.attempt().outcome(), published) : CopyObject.Outcome.lost());
        return new Settled(batch, outcomes, published.size(), (System.nanoTime() - t0) / 1_000_000);
    }

    private void record(Settled s) {
        long t0 = System.nanoTime();
        List<FinishJob.Entry> entries = new ArrayList<>();
        for (int i = 0; i < s.batch().size(); i++) {
            Finished f = s.batch().get(i);
            CopyObject.Outcome o = s.outcomes().get(i);
            if (o.leaseLost()) continue;
            FinishJob.Attempt a = f.attempt();
            entries.add(new FinishJob.Entry(f.job(), f.owner(), new FinishJob.Attempt(o, a.breakerOpen(), a.retryAt(), a.nothingTried())));
        }
        try {
            if (!entries.isEmpty()) finish.recordAll(entries);
        } catch (SQLException e) {
            LOG.warn("replication: recording {} finished jobs failed ({}); they run again after their leases", entries.size(), e.toString());
        }
        for (int i = 0; i < s.batch().size(); i++) s.batch().get(i).done().accept(s.outcomes().get(i));
        if (LOG.isDebugEnabled()) {
            LOG.debug("group commit: {} jobs, {} copies published in {} ms, recorded in {} ms", s.batch().size(), s.published(),
                    s.publishMillis(), (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** Each store's publications at once, side by side (one store's fsyncs need not wait for another's). */
    private Map<Publication, Publication.Outcome> publishAll(Map<String, List<Publication>> byStore) {
        Map<Publication, Publication.Outcome> out = new HashMap<>();
        List<CompletableFuture<List<Publication.Outcome>>> running = new ArrayList<>();
        for (Map.Entry<String, List<Publication>> e : byStore.entrySet()) {
            Store store = stores.get(e.getKey());
            List<Publication> list = e.getValue();
            running.add(CompletableFuture.supplyAsync(() -> publish(store, list), publishers));
        }
        for (CompletableFuture<List<Publication.Outcome>> r : running) {
            for (Publication.Outcome o : r.join()) out.put(o.publication(), o);
        }
        return out;
    }

    private static List<Publication.Outcome> publish(Store store, List<Publication> list) {
        try {
            return store.publish(list);
        } catch (RuntimeException e) {
            List<Publication.Outcome> failed = new ArrayList<>();
            for (Publication p : list) {
                p.staged().discard();
                failed.add(new Publication.Outcome(p, null, e));
            }
            return failed;
        }
    }

    /** The attempt's outcome with its staged copies settled: verified if published, failed (with why) if not. */
    private CopyObject.Outcome resolve(CopyObject.Outcome o, Map<Publication, Publication.Outcome> published) {
        if (o.pending().isEmpty()) return o;
        List<CopyObject.Copy> verified = new ArrayList<>(o.verified());
        Map<String, String> failed = new LinkedHashMap<>(o.failed());
        Set<String> permanent = new TreeSet<>(o.permanent());
        for (CopyObject.Pending p : o.pending()) {
            Publication.Outcome r = published.get(new Publication(p.staged(), p.lock()));
            if (r != null && r.ok()) {
                boolean held = p.lock() != null && p.lock().legalHold();
                verified.add(new CopyObject.Copy(p.store(), r.result().storeChecksum(), r.result().versionId(),
                        p.lock() == null ? null : p.lock().retainUntil(), held, false));
                metrics.copied(p.store(), r.result().size());
                continue;
            }
            RuntimeException error = r == null ? new IllegalStateException("the staged copy was not published") : r.error();
            failed.put(p.store(), error.getMessage());
            if (error instanceof InvalidKeyException) permanent.add(p.store());
            else if (!(error instanceof ObjectLockedException)) metrics.failed(p.store());
        }
        return new CopyObject.Outcome(verified, List.of(), failed, permanent, o.learned(), o.sourceProblems(), false);
    }

    /** Commits what was handed over, then stops. */
    @Override
    public void close() {
        running = false;
        try {
            if (committer != null) committer.join(30_000);
            publishing = false;
            for (Thread recorder : recorders) recorder.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        publishers.shutdownNow();
    }
}
