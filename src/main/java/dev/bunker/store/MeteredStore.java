package dev.bunker.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.time.Instant;
import java.util.function.Supplier;

/** Counts, per store, the deletes, overwrites and retention cuts the store refused because a lock protects the object. */
public final class MeteredStore extends ForwardingStore {
    private final Counter violations;

    public MeteredStore(Store inner, MeterRegistry metrics) {
        super(inner);
        this.violations = Counter.builder("bunker_lock_violations_refused")
                .description("deletes, overwrites and retention cuts a store refused because a lock protects the object")
                .tag("store", inner.name()).register(metrics);
    }

    /** Listings are not metered: the inner store's own full listing (a local store's one pass). */
    @Override
    public FullListing fullListing(Instant now) {
        return inner().fullListing(now);
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        return counted(() -> super.put(key, data, options));
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        return counted(() -> super.putNewVersion(key, data, options));
    }

    @Override
    public Staged stage(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        return counted(() -> super.stage(key, data, options, asNewVersion));
    }

    @Override
    public java.util.List<Publication.Outcome> publish(java.util.List<Publication> batch) {
        java.util.List<Publication.Outcome> out = super.publish(batch);
        for (Publication.Outcome o : out) if (o.error() instanceof ObjectLockedException) violations.increment();
        return out;
    }

    @Override
    public void delete(String key) {
        counted(() -> {
            super.delete(key);
            return null;
        });
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        counted(() -> {
            super.extendRetention(key, retainUntil);
            return null;
        });
    }

    @Override
    public Instant holdAndRetain(String key, Instant now, java.time.Duration period) {
        return counted(() -> super.holdAndRetain(key, now, period));
    }

    @Override
    public void applyLock(String key, Instant retainUntil, boolean legalHold) {
        counted(() -> {
            super.applyLock(key, retainUntil, legalHold);
            return null;
        });
    }

    private <T> T counted(Supplier<T> call) {
        try {
            return call.get();
        } catch (ObjectLockedException e) {
            violations.increment();
            throw e;
        }
    }
}
