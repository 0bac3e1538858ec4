package dev.bunker.testing;

import dev.bunker.store.ListPage;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Store;
import dev.bunker.store.StoreUnavailableException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;

/**
 * A fault-injecting wrapper around a real store: it can refuse puts or gets (an outage), flip a byte
 * of what it writes (a corrupting store) or write slowly, while every other call reaches the real store.
 */
public final class FaultyStore implements LockableStore {
    private final Store real;
    public volatile boolean failPuts;
    public volatile boolean failGets;
    /** Flips a bit of the bytes on their way into the store (the store's own hash sees the damage). */
    public volatile boolean corruptInTransit;
    /** Flips a bit of the stored object right after a successful put (silent corruption only a read-back finds). */
    public volatile boolean corruptAfterWrite;
    public volatile long putDelayMillisPerMiB;
    /** Reads of keys starting with {@code slowGetsOf} run at one MiB per {@code getDelayMillisPerMiB}. */
    public volatile String slowGetsOf;
    public volatile long getDelayMillisPerMiB;
    public volatile boolean failDeletes;
    /** When set, puts wait for it to open before writing anything (a worker or upload that stalls). */
    public volatile java.util.concurrent.CountDownLatch putGate;
    /** Reads fail as S3 fails them for an object in GLACIER or DEEP_ARCHIVE: InvalidObjectState, restore first. */
    public volatile boolean archived;
    public volatile long deleteDelayMillis;
    /** Every lock call, in order, e.g. "extendRetention k 2026-...", "setLegalHold k false". */
    public final java.util.List<String> lockCalls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    public FaultyStore(Store real) {
        this.real = real;
    }

    /** For {@code Bunker.open(config, clock, wrap)}: wraps every store, and puts each wrapper into {@code byName}. */
    public static java.util.function.UnaryOperator<Store> into(java.util.Map<String, FaultyStore> byName) {
        return s -> {
            FaultyStore f = new FaultyStore(s);
            byName.put(s.name(), f);
            return f;
        };
    }

    public Store real() { return real; }

    @Override
    public String name() { return real.name(); }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        if (failPuts) throw new StoreUnavailableException(name(), key, "injected outage of store '" + name() + "'");
        awaitGate();
        InputStream in = data;
        if (corruptInTransit) in = new FilterInputStream(in) {
            boolean flipped;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0 && !flipped) {
                    b[off] ^= 0x01;
                    flipped = true;
                }
                return n;
            }
        };
        if (putDelayMillisPerMiB > 0) in = slowed(in, putDelayMillisPerMiB);
        PutResult result = real.put(key, in, options);
        if (corruptAfterWrite && real instanceof dev.bunker.store.LocalStore local) {
            try {
                java.nio.file.Path p = local.pathOf(key);
                byte[] b = java.nio.file.Files.readAllBytes(p);
                if (b.length > 0) b[b.length / 2] ^= 0x10;
                java.nio.file.Files.write(p, b);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return result;
    }

    private void awaitGate() {
        java.util.concurrent.CountDownLatch gate = putGate;
        if (gate == null) return;
        try {
            if (!gate.await(60, java.util.concurrent.TimeUnit.SECONDS)) throw new IllegalStateException("put gate never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        if (failPuts) throw new StoreUnavailableException(name(), key, "injected outage of store '" + name() + "'");
        awaitGate();
        return lockable().putNewVersion(key, data, options);
    }

    @Override
    public boolean checksWritesInTransit() {
        return real.checksWritesInTransit();
    }

    /** {@code in}, read at one MiB per {@code millisPerMiB} (a slow link); an interrupted reader stops. */
    private static InputStream slowed(InputStream in, long millisPerMiB) {
        return new FilterInputStream(in) {
            long sinceSleep;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, Math.min(len, 64 * 1024));
                if (n > 0 && (sinceSleep += n) >= 64 * 1024) {
                    sinceSleep = 0;
                    try {
                        Thread.sleep(Math.max(1, millisPerMiB / 16));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException();
                    }
                }
                return n;
            }
        };
    }

    @Override
    public InputStream get(String key) {
        return get(key, null);
    }

    @Override
    public InputStream get(String key, String versionId) {
        if (failGets) throw new StoreUnavailableException(name(), key, "injected outage of store '" + name() + "'");
        if (archived) {
            throw new dev.bunker.store.ObjectArchivedException(name(), key, "unable to read '" + key + "' in store '" + name()
                    + "': the object is archived in a cold storage class and must be restored first (injected)", null);
        }
        String slow = slowGetsOf;
        if (slow != null && key.startsWith(slow)) return slowed(real.get(key, versionId), getDelayMillisPerMiB);
        return real.get(key, versionId);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        if (failGets) throw new StoreUnavailableException(name(), key, "injected outage of store '" + name() + "'");
        return real.stat(key);
    }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) {
        return real.list(prefix, startAfter, limit);
    }

    @Override
    public void delete(String key) {
        if (failDeletes) throw new StoreUnavailableException(name(), key, "injected outage of store '" + name() + "'");
        if (deleteDelayMillis > 0) {
            try {
                Thread.sleep(deleteDelayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        real.delete(key);
    }

    private LockableStore lockable() {
        return (LockableStore) real;
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        lockCalls.add("extendRetention " + key + " " + retainUntil);
        lockable().extendRetention(key, retainUntil);
    }

    @Override
    public void setLegalHold(String key, boolean on) {
        lockCalls.add("setLegalHold " + key + " " + on);
        lockable().setLegalHold(key, on);
    }

    @Override
    public LockState lockState(String key) { return lockable().lockState(key); }

    @Override
    public void checkLockingEnabled() { lockable().checkLockingEnabled(); }

    @Override
    public void close() { real.close(); }
}
