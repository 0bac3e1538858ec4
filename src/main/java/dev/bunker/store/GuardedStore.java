package dev.bunker.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The wrapper around every store Bunker opens. It refuses {@link #delete} unless the calling thread
 * holds the deletion permit, which only two jobs take: the lifecycle's cleanup job ({@code PurgeExpired})
 * and backup pruning ({@code PruneBackups}, for expired backups only). Rogue or buggy code elsewhere
 * cannot delete objects, whatever credential the store has. It also
 * counts the attempts a store refused because a lock protects the object.
 */
public final class GuardedStore implements LockableStore {
    private static final ThreadLocal<String> PERMIT = new ThreadLocal<>();

    private final Store inner;
    private final Counter violations;

    public GuardedStore(Store inner, MeterRegistry metrics) {
        this.inner = inner;
        this.violations = Counter.builder("bunker_lock_violations_refused")
                .description("deletes, overwrites and retention cuts a store refused because a lock protects the object")
                .tag("store", inner.name()).register(metrics);
    }

    /** Runs {@code work} with the permit to delete from stores. For the cleanup job and backup pruning only. */
    public static <T> T withDeletionPermit(String holder, Supplier<T> work) {
        String previous = PERMIT.get();
        PERMIT.set(holder);
        try {
            return work.get();
        } finally {
            if (previous == null) PERMIT.remove();
            else PERMIT.set(previous);
        }
    }

    public Store inner() { return inner; }

    @Override
    public String name() { return inner.name(); }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        return counted(() -> inner.put(key, data, options));
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        return counted(() -> lockable().putNewVersion(key, data, options));
    }

    @Override
    public InputStream get(String key) { return inner.get(key); }

    @Override
    public InputStream get(String key, String versionId) {
        return versionId == null ? inner.get(key) : lockable().get(key, versionId);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) { return inner.stat(key); }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) { return inner.list(prefix, startAfter, limit); }

    @Override
    public void delete(String key) {
        if (PERMIT.get() == null) {
            throw new DeletionRefusedException(name(), key, "refusing to delete " + ObjectKeys.quote(key) + " from store '" + name()
                    + "': only the lifecycle's cleanup job deletes objects; trash the object (DELETE /v1/objects/KEY) instead");
        }
        counted(() -> {
            inner.delete(key);
            return null;
        });
    }

    private LockableStore lockable() {
        if (inner instanceof LockableStore l) return l;
        throw new LockNotSupportedException(name(), null, "store '" + name() + "' cannot lock objects (type without Object Lock)");
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        counted(() -> {
            lockable().extendRetention(key, retainUntil);
            return null;
        });
    }

    @Override
    public void setLegalHold(String key, boolean on) { lockable().setLegalHold(key, on); }

    @Override
    public LockState lockState(String key) { return lockable().lockState(key); }

    @Override
    public void checkLockingEnabled() { lockable().checkLockingEnabled(); }

    @Override
    public void applyLock(String key, Instant retainUntil, boolean legalHold) {
        counted(() -> {
            lockable().applyLock(key, retainUntil, legalHold);
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

    @Override
    public void close() { inner.close(); }

    /** A delete outside the cleanup job. */
    public static final class DeletionRefusedException extends StoreException {
        DeletionRefusedException(String store, String key, String message) {
            super(store, key, message);
        }
    }
}
