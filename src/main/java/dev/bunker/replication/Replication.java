package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.store.Store;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Map;
import javax.sql.DataSource;
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

    /** On Bunker's database and (guarded) stores, with its clock and metrics; see {@code Engine} for the wiring. */
    public Replication(BunkerConfig config, DataSource db, Map<String, Store> stores, Clock clock, MeterRegistry registry) {
        ReplicationMetrics metrics = new ReplicationMetrics(registry);
        this.ledger = new Ledger(db);
        this.jobs = new ReplicationJobs(db, clock);
        this.status = new ReplicationStatus(db);
        AtomicInteger n = new AtomicInteger();
        this.sinkPool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "copy-sink-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        CopyChecks checks = new CopyChecks(config, stores, clock, metrics);
        CopyObject copy = new CopyObject(config, stores, ledger, checks, sinkPool, metrics);
        CircuitBreakers breakers = new CircuitBreakers(config.replication().breakerFailures(), config.replication().breakerCooldown(),
                clock);
        FinishJob finish = new FinishJob(db, config.replication(), clock);
        GroupCommit commit = new GroupCommit(stores, finish, metrics, config.replication().batching());
        this.workers = new ReplicationWorkers(config.replication(), jobs, copy, commit, breakers);
        this.keyLimits = dev.bunker.store.ObjectKeys.limitsFor(config.stores().values());
        this.ingest = new Ingest(config, db, stores.get(config.replication().primary()), keyLimits, clock, workers::nudge);
        this.reads = new ObjectReads(config, stores, ledger, jobs, metrics);
        this.reconcile = new Reconcile(db, config.replication(), stores, clock);
        status.bindTo(registry, stores.keySet());
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
        status.stop();
        workers.stop(Duration.ofSeconds(2));
        sinkPool.shutdownNow();
    }
}
