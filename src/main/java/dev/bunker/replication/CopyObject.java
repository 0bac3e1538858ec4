package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.replication.Ledger.ObjectRow;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One unit of replication work: bring one object to a set of target stores. It reads the object once
 * from a source (the primary, or a verified replica when the primary lacks it or holds wrong bytes),
 * streams it to every target at once, verifies each copy (size and SHA-256, through the store's own
 * checksum or by reading it back), then applies the target's Object Lock, and only then records the
 * copy as verified. The worker loop ({@link ReplicationWorkers}) decides what to do with the outcome.
 */
public final class CopyObject {
    private static final Logger LOG = LoggerFactory.getLogger(CopyObject.class);
    /** Which targets now hold a verified copy, and why the others do not. {@code permanent}: retrying cannot help. */
    public record Outcome(List<Copy> verified, Map<String, String> failed, Set<String> permanent, Learned learned) {
        static Outcome gone() { return new Outcome(List.of(), Map.of(), Set.of(), null); }

        public List<String> verifiedStores() {
            return verified.stream().map(Copy::store).toList();
        }
    }

    /** Size and SHA-256 read from {@code source} for an object recorded without them (outbox, reconcile). */
    public record Learned(long size, String sha256, String source) {}

    /** A verified copy to record; {@code recorded} when the ledger already says so. */
    public record Copy(String store, String storeChecksum, Instant retainUntil, boolean legalHold, boolean recorded) {}

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Ledger ledger;
    private final Clock clock;
    private final ExecutorService sinkPool;
    private final ReplicationMetrics metrics;

    public CopyObject(BunkerConfig config, Map<String, Store> stores, Ledger ledger, Clock clock, ExecutorService sinkPool,
                      ReplicationMetrics metrics) {
        this.config = config;
        this.stores = stores;
        this.ledger = ledger;
        this.clock = clock;
        this.sinkPool = sinkPool;
        this.metrics = metrics;
    }

    public Outcome copy(String key, List<String> targets) throws SQLException, InterruptedException {
        LOG.debug("copy start {} to {}", key, targets);
        try {
            return copyLogged(key, targets);
        } finally {
            LOG.debug("copy end {}", key);
        }
    }

    private Outcome copyLogged(String key, List<String> targets) throws SQLException, InterruptedException {
        Optional<ObjectRow> found = ledger.find(key);
        // Gone from the ledger, or permanently deleted: nothing to copy (a new copy would only need purging).
        if (found.isEmpty() || !found.get().kept()) return Outcome.gone();
        ObjectRow object = found.get();
        Map<String, CopyRow> copies = new LinkedHashMap<>();
        for (CopyRow c : ledger.copies(key)) copies.put(c.store(), c);

        List<Copy> verified = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        Set<String> permanent = new TreeSet<>();
        List<String> toWrite = new ArrayList<>();
        for (String target : targets) {
            CopyRow row = copies.get(target);
            if (row != null && row.state().equals("verified")) {
                verified.add(new Copy(target, row.storeChecksum(), row.retainUntil(), row.legalHold(), true));
                continue;
            }
            try {
                Existing existing = inspectExisting(target, object);
                switch (existing) {
                    case MATCHES -> verified.add(lock(target, object.key(), null));
                    case LOCKED_DIFFERENT -> {
                        failed.put(target, "store '" + target + "' holds a different object under " + key
                                + " and keeps it locked; it cannot be replaced until its lock ends");
                        permanent.add(target);
                    }
                    case ABSENT_OR_REPLACEABLE -> toWrite.add(target);
                }
            } catch (RuntimeException e) {
                failed.put(target, e.getMessage());
                metrics.failed(target);
            }
        }
        Learned learned = toWrite.isEmpty() ? null : writeFromBestSource(object, copies, toWrite, verified, failed);
        return new Outcome(verified, failed, permanent, learned);
    }

    private enum Existing { ABSENT_OR_REPLACEABLE, MATCHES, LOCKED_DIFFERENT }

    /** A copy may already be there (a worker died after writing it, or an operator restored it): verify instead of copying. */
    private Existing inspectExisting(String target, ObjectRow object) {
        if (object.sha256() == null) return Existing.ABSENT_OR_REPLACEABLE;
        Store store = stores.get(target);
        Optional<ObjectInfo> info = store.stat(object.key());
        if (info.isEmpty()) return Existing.ABSENT_OR_REPLACEABLE;
        boolean same = info.get().size() == object.size() && object.sha256().equals(readSha256(store, object.key()));
        if (same) return Existing.MATCHES;
        if (store instanceof LockableStore l && l.lockState(object.key()).protects(clock.instant())) return Existing.LOCKED_DIFFERENT;
        return Existing.ABSENT_OR_REPLACEABLE;
    }

    private Learned writeFromBestSource(ObjectRow object, Map<String, CopyRow> copies, List<String> toWrite, List<Copy> verified,
                                     Map<String, String> failed) throws SQLException, InterruptedException {
        String lastProblem = "no store holds a verified copy to copy from";
        for (String source : sources(copies, toWrite)) {
            InputStream in;
            try {
                in = stores.get(source).get(object.key());
            } catch (ObjectNotFoundException e) {
                ledger.mark(object.key(), source, "missing", e.getMessage());
                lastProblem = e.getMessage();
                continue;
            } catch (RuntimeException e) {
                lastProblem = "unable to read from store '" + source + "': " + e.getMessage();
                continue;
            }
            Map<String, FanOut.Sink> sinks = new LinkedHashMap<>();
            String key = object.key();
            long size = object.size() == null ? -1 : object.size();
            for (String t : toWrite) {
                Store store = stores.get(t);
                // Written without a lock: the lock goes on only after the copy is verified (see finish).
                sinks.put(t, pipe -> store.put(key, pipe, new PutOptions(size, null)));
            }
            FanOut.Result r;
            try (InputStream source0 = in) {
                r = FanOut.run(source0, object.size(), object.sha256(), sinks, sinkPool);
            } catch (IOException closeFailed) {
                continue;
            }
            if (r.sourceError() != null) {
                if (r.sourceError() instanceof FanOut.SourceMismatchException) {
                    ledger.mark(object.key(), source, "corrupt", r.sourceError().getMessage());
                    metrics.corruptCopy(source);
                }
                lastProblem = "copying from store '" + source + "' failed: " + r.sourceError().getMessage();
                continue; // nothing was made visible on any target; try the next source
            }
            Learned learned = null;
            if (object.sha256() == null) {
                learned = new Learned(r.size(), r.sha256(), source);
                object = new ObjectRow(object.key(), r.size(), r.sha256(), object.createdAt(), object.state());
            }
            for (String t : toWrite) {
                if (r.failed().containsKey(t)) {
                    failed.put(t, r.failed().get(t).getMessage());
                    metrics.failed(t);
                    continue;
                }
                try {
                    verify(t, object, r.written().get(t));
                    verified.add(lock(t, object.key(), r.written().get(t).storeChecksum()));
                    metrics.copied(t, r.size());
                } catch (RuntimeException e) {
                    failed.put(t, e.getMessage());
                    metrics.failed(t);
                }
            }
            return learned;
        }
        for (String t : toWrite) failed.put(t, lastProblem);
        return null;
    }

    /** The primary first, then verified replicas, hot before cold; never a store we are writing to. */
    private List<String> sources(Map<String, CopyRow> copies, List<String> targets) {
        String primary = config.replication().primary();
        List<String> out = new ArrayList<>();
        CopyRow p = copies.get(primary);
        if (!targets.contains(primary) && (p == null || p.state().equals("verified"))) out.add(primary);
        copies.values().stream()
                .filter(c -> c.state().equals("verified") && !c.store().equals(primary) && !targets.contains(c.store())
                        && stores.containsKey(c.store()))
                .sorted(Comparator.comparing(c -> config.store(c.store()).tier()))
                .forEach(c -> out.add(c.store()));
        return out;
    }

    /** A copy counts only when the store reports the right size and the right bytes. */
    private void verify(String target, ObjectRow object, PutResult written) {
        if (written.size() != object.size() || !written.sha256().equals(object.sha256())) {
            throw new IllegalStateException("copy to '" + target + "' wrote " + written.size() + " bytes with SHA-256 " + written.sha256()
                    + ", expected " + object.size() + " bytes with " + object.sha256());
        }
        Store store = stores.get(target);
        ObjectInfo info = store.stat(object.key()).orElseThrow(() ->
                new IllegalStateException("store '" + target + "' does not show " + object.key() + " right after writing it"));
        if (info.size() != object.size()) {
            throw new IllegalStateException("store '" + target + "' reports " + info.size() + " bytes for " + object.key() + ", expected " + object.size());
        }
        if (written.storeChecksum() != null && info.storeChecksum() != null) {
            if (!written.storeChecksum().equals(info.storeChecksum())) {
                throw new IllegalStateException("store '" + target + "' reports checksum " + info.storeChecksum() + " for " + object.key()
                        + ", expected " + written.storeChecksum());
            }
            return;
        }
        String actual = readSha256(store, object.key());
        if (!actual.equals(object.sha256())) {
            metrics.corruptCopy(target);
            throw new IllegalStateException("reading back " + object.key() + " from store '" + target + "' gives SHA-256 " + actual
                    + ", expected " + object.sha256());
        }
    }

    /** Applies the target's Object Lock (retention extended, then the legal hold); the caller records the copy. */
    private Copy lock(String target, String key, String storeChecksum) {
        StoreConfig sc = config.store(target);
        if (sc.lock() == null) return new Copy(target, storeChecksum, null, false, false);
        LockableStore store = (LockableStore) stores.get(target);
        // Whole seconds, rounded up: S3 servers keep retain-until dates at second (or millisecond) precision.
        Instant wanted = clock.instant().plus(sc.lock().period()).plusSeconds(1).truncatedTo(ChronoUnit.SECONDS);
        LockState current = store.lockState(key);
        Instant until = current.retainUntil() != null && current.retainUntil().isAfter(wanted) ? current.retainUntil() : wanted;
        if (!until.equals(current.retainUntil()) || !current.legalHold()) store.applyLock(key, until, true);
        return new Copy(target, storeChecksum, until, true, false);
    }

    static String readSha256(Store store, String key) {
        try (InputStream in = store.get(key)) {
            return Sha256.hexOf(in);
        } catch (IOException e) {
            throw new IllegalStateException("unable to read back " + key + " from store '" + store.name() + "': " + e.getMessage(), e);
        }
    }
}
