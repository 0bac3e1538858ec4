package dev.bunker.store;

import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;

/**
 * A store that passes every call to another; wrappers that add one concern (the deletion guard, metrics,
 * fault injection in tests) extend it and override only what their concern touches.
 */
public abstract class ForwardingStore implements LockableStore {
    private final Store inner;

    protected ForwardingStore(Store inner) {
        this.inner = inner;
    }

    public Store inner() { return inner; }

    protected LockableStore lockable() {
        if (inner instanceof LockableStore l) return l;
        throw new LockNotSupportedException(name(), null, "store '" + name() + "' cannot lock objects (type without Object Lock)");
    }

    @Override
    public String name() { return inner.name(); }

    @Override
    public void probe() { inner.probe(); }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) { return inner.put(key, data, options); }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) { return lockable().putNewVersion(key, data, options); }

    @Override
    public Staged stage(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        return inner.stage(key, data, options, asNewVersion);
    }

    @Override
    public java.util.List<Publication.Outcome> publish(java.util.List<Publication> batch) { return inner.publish(batch); }

    @Override
    public boolean checksWritesInTransit() { return inner.checksWritesInTransit(); }

    @Override
    public InputStream get(String key) { return inner.get(key); }

    @Override
    public InputStream get(String key, String versionId) { return inner.get(key, versionId); }

    @Override
    public Optional<ObjectInfo> stat(String key) { return inner.stat(key); }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) { return inner.list(prefix, startAfter, limit); }

    @Override
    public Optional<FullListing> inventory(Instant now) { return inner.inventory(now); }

    @Override
    public void delete(String key) { inner.delete(key); }

    @Override
    public void extendRetention(String key, Instant retainUntil) { lockable().extendRetention(key, retainUntil); }

    @Override
    public void setLegalHold(String key, boolean on) { lockable().setLegalHold(key, on); }

    @Override
    public LockState lockState(String key) { return lockable().lockState(key); }

    @Override
    public void applyLock(String key, Instant retainUntil, boolean legalHold) { lockable().applyLock(key, retainUntil, legalHold); }

    @Override
    public Instant holdAndRetain(String key, Instant now, java.time.Duration period) { return lockable().holdAndRetain(key, now, period); }

    @Override
    public void checkLockingEnabled() { lockable().checkLockingEnabled(); }

    @Override
    public void close() { inner.close(); }
}
