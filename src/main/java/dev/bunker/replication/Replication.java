package dev.bunker.replication;

import dev.bunker.Bunker;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** The replication engine of one process, wired from an opened {@link Bunker}: ingest, reads, workers, reconcile, status. */
public final class Replication implements AutoCloseable {
    private final Ledger ledger;
    private final ReplicationJobs jobs;
    private final ReplicationStatus status;
    private final ReplicationWorkers workers;
    private final Ingest ingest;
    private final ObjectReads reads;
    private final Reconcile reconcile;
    private final ExecutorService sinkPool;
    private final dev.bunker.store.ObjectKeys.Limits keyLimits;

    public Replication(Bunker bunker) {
        var db = bunker.database().dataSource();
        var config = bunker.config();
        ReplicationMetrics metrics = new ReplicationMetrics(bunker.metrics());
        this.ledger = new Ledger(db);
        this.jobs = new ReplicationJobs(db, bunker.clock());
        this.status = new ReplicationStatus(db);
        AtomicInteger n = new AtomicInteger();
        this.sinkPool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "copy-sink-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        CopyChecks checks = new CopyChecks(config, bunker.stores(), bunker.clock(), metrics);
        CopyObject copy = new CopyObject(config, bunker.stores(), ledger, checks, sinkPool, metrics);
        CircuitBreakers breakers = new CircuitBreakers(config.replication().breakerFailures(), config.replication().breakerCooldown(),
                bunker.clock());
        FinishJob finish = new FinishJob(db, config.replication(), bunker.clock());
        this.workers = new ReplicationWorkers(config.replication(), jobs, copy, finish, breakers);
        this.keyLimits = dev.bunker.store.ObjectKeys.limitsFor(config.stores().values());
        this.ingest = new Ingest(config, db, bunker.store(config.replication().primary()), keyLimits, bunker.clock(), workers::nudge);
        this.reads = new ObjectReads(config, bunker.stores(), ledger, jobs, metrics);
        this.reconcile = new Reconcile(db, config.replication(), bunker.stores(), bunker.clock());
        status.bindTo(bunker.metrics(), bunker.stores().keySet());
    }

    /** The key limits every configured store can hold (see ObjectKeys). */
    public dev.bunker.store.ObjectKeys.Limits keyLimits() { return keyLimits; }

    public Ledger ledger() { return ledger; }

    public ReplicationJobs jobs() { return jobs; }

    public ReplicationStatus status() { return status; }

    public ReplicationWorkers workers() { return workers; }

    public Ingest ingest() { return ingest; }

    public ObjectReads reads() { return reads; }

    public Reconcile reconcile() { return reconcile; }

    @Override
    public void close() {
        workers.stop(Duration.ofSeconds(2));
        sinkPool.shutdownNow();
    }
}
