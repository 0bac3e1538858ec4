package dev.bunker.replication;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** Counters of the replication engine, by store; gauges (queue depth, lag) come from {@link ReplicationStatus}. */
public final class ReplicationMetrics {
    private final MeterRegistry registry;

    public ReplicationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void copied(String store, long bytes) {
        Counter.builder("bunker_replication_objects_copied").description("copies written and verified").tag("store", store)
                .register(registry).increment();
        Counter.builder("bunker_replication_bytes_copied").description("bytes of verified copies").baseUnit("bytes").tag("store", store)
                .register(registry).increment(bytes);
    }

    void failed(String store) {
        Counter.builder("bunker_replication_failures").description("copy attempts that failed").tag("store", store)
                .register(registry).increment();
    }

    public void failover(String servedFrom) {
        Counter.builder("bunker_read_failovers").description("reads served by a replica because the primary failed")
                .tag("store", servedFrom).register(registry).increment();
    }

    public void corruptCopy(String store) {
        Counter.builder("bunker_corrupt_copies_found").description("copies whose bytes did not match the ledger")
                .tag("store", store).register(registry).increment();
    }
}
