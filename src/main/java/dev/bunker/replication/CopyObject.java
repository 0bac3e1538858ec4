package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.replication.Ledger.ObjectRow;
import dev.bunker.store.InvalidKeyException;
import dev.bunker.store.LockState;
import dev.bunker.store.ObjectKeys;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Staged;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
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
 * streams it to every target at once, verifies each copy ({@link CopyChecks}), then applies the
 * target's Object Lock. A target that holds other bytes under a lock gets the right bytes as a new
 * version beside them. It writes nothing to the ledger: everything it learned (copies verified,
 * targets failed, sources found missing or corrupt) is in the {@link Outcome}, which
 * {@link FinishJob} records; and it stops as soon as the job's lease is lost.
 */
public final class CopyObject {
    private static final Logger LOG = LoggerFactory.getLogger(CopyObject.class);

    /** Whether the worker still holds the job; checked before every write to a store. */
    @FunctionalInterface
    public interface Lease {
        boolean held();
    }

    /**
     * What one copy step found and did. {@code permanent}: failed targets that retrying cannot help;
     * {@code sourceProblems}: stores that should have served the object and did not (store: missing or corrupt, and why);
     * {@code leaseLost}: the step stopped because another worker owns the job now.
     */
    public record Outcome(List<Copy> verified, List<Pending> pending, Map<String, String> failed, Set<String> permanent, Learned learned,
                          Map<String, SourceProblem> sourceProblems, boolean leaseLost) {
        static Outcome gone() { return new Outcome(List.of(), List.of(), Map.of(), Set.of(), null, Map.of(), false); }

        static Outcome lost() { return new Outcome(List.of(), List.of(), Map.of(), Set.of(), null, Map.of(), true); }

        public List<String> verifiedStores() {
            return verified.stream().map(Copy::store).toList();
        }
    }

    /** Size and SHA-256 read from {@code source} for an object recorded without them (outbox, reconcile). */
    public record Learned(long size, String sha256, String source) {}

    /** A verified copy to record; {@code recorded} when the ledger already says so. */
    public record Copy(String store, String storeChecksum, String versionId, java.time.Instant retainUntil, boolean legalHold,
                       boolean recorded) {}

    /**
     * A verified copy whose bytes are staged but not yet durable: it counts only once {@link GroupCommit}
     * has published it, with {@code lock} (null: none), in a batch.
     */
    public record Pending(String store, Staged staged, LockState lock) {}

    /** A source store that lacks the object or holds other bytes. */
    public record SourceProblem(CopyState state, String why) {}

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Ledger ledger;
    private final CopyChecks checks;
    private final ExecutorService sinkPool;
    private final ReplicationMetrics metrics;

    public CopyObject(BunkerConfig config, Map<String, Store> stores, Ledger ledger, CopyChecks checks, ExecutorService sinkPool,
                      ReplicationMetrics metrics) {
        this.config = config;
        this.stores = stores;
        this.ledger = ledger;
        this.checks = checks;
        this.sinkPool = sinkPool;
        this.metrics = metrics;
    }

    /** {@code firstAttempt}: the job's first claim since it was enqueued (no worker has written for it yet). */
    public Outcome copy(String key, List<String> targets, Lease lease, boolean firstAttempt) throws SQLException, InterruptedException {
        LOG.debug("copy start {} to {}", key, targets);
        try {
            return copyLogged(key, targets, lease, firstAttempt);
        } finally {
            LOG.debug("copy end {}", key);
        }
    }

    private Outcome copyLogged(String key, List<String> targets, Lease lease, boolean firstAttempt) throws SQLException, InterruptedException {
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
        List<String> toVersion = new ArrayList<>();
        Set<String> unlooked = new TreeSet<>();
        if (ObjectKeys.isReserved(key)) {
            // Never copy into Bunker's own key space, whatever put the key in the ledger.
            for (String t : targets) failed.put(t, "key " + ObjectKeys.quote(key) + " is reserved for Bunker's own data and is never replicated");
            return new Outcome(verified, List.of(), failed, new TreeSet<>(targets), null, Map.of(), false);
        }
        for (String target : targets) {
            CopyRow row = copies.get(target);
            boolean locked = config.store(target).lock() != null;
            if (row != null && row.state() == CopyState.VERIFIED && (!locked || row.legalHold())) {
                verified.add(new Copy(target, row.storeChecksum(), row.versionId(), row.retainUntil(), row.legalHold(), true));
                continue;
            }
            if (!lease.held()) return Outcome.lost();
            if (firstAttempt && neverTried(row) && stores.get(target).checksWritesInTransit()) {
                // Nothing can be there yet but a copy no worker recorded: a look costs a request, as much as the write
                // of a small object, and on a locked store the write goes beside whatever is there as a new version.
                (locked ? toVersion : toWrite).add(target);
                unlooked.add(target);
                continue;
            }
            try {
                CopyChecks.Existing existing = checks.existing(target, object, row);
                switch (existing.kind()) {
                    case MATCHES -> verified.add(checks.lock(target, key, existing.storeChecksum(), existing.versionId()));
                    case LOCKED_DIFFERENT -> toVersion.add(target);
                    case ABSENT_OR_REPLACEABLE -> toWrite.add(target);
                }
            } catch (InvalidKeyException e) {
                failed.put(target, e.getMessage());
                permanent.add(target);
            } catch (RuntimeException e) {
                failed.put(target, e.getMessage());
                metrics.failed(target);
            }
        }
        Map<String, SourceProblem> sourceProblems = new LinkedHashMap<>();
        List<Pending> pending = new ArrayList<>();
        Learned learned = null;
        if (!toWrite.isEmpty() || !toVersion.isEmpty()) {
            if (!lease.held()) return Outcome.lost();
            learned = writeFromBestSource(object, copies, new Writes(toWrite, toVersion, unlooked), new Results(verified, pending, failed, permanent, sourceProblems),
                    lease);
        }
        if (!lease.held()) {
            for (Pending p : pending) p.staged().discard();
            return Outcome.lost();
        }
        return new Outcome(verified, pending, failed, permanent, learned, sourceProblems, false);
    }

    /** A copy the ledger awaits that no attempt has written or failed (a worker that died mid-copy left the job's attempts above one). */
    private static boolean neverTried(CopyRow row) {
        return row != null && row.state() == CopyState.PENDING && row.lastError() == null && row.verifiedAt() == null;
    }

    /** What the write step adds to the outcome. */
    private record Results(List<Copy> verified, List<Pending> pending, Map<String, String> failed, Set<String> permanent,
                           Map<String, SourceProblem> sourceProblems) {}

    /** Targets to put, to put as a new version beside a locked object, and (of both) those written without a look at what is there. */
    private record Writes(List<String> toWrite, List<String> toVersion, Set<String> unlooked) {}

    private Learned writeFromBestSource(ObjectRow object, Map<String, CopyRow> copies, Writes writes,
                                        Results results, Lease lease) throws InterruptedException {
        Map<String, String> failed = results.failed();
        Map<String, SourceProblem> sourceProblems = results.sourceProblems();
        List<String> targets = new ArrayList<>(writes.toWrite());
        targets.addAll(writes.toVersion());
        // A store that checks each body in transit makes a copy visible only with the bytes sent, which FanOut checked
        // against the ledger before the end of the stream: its lock goes up with the write. Elsewhere the lock goes on
        // only after the copy is verified, so a corrupt copy is never locked in place.
        Map<String, LockState> lockOnWrite = new LinkedHashMap<>();
        for (String t : List.copyOf(targets)) {
            if (!stores.get(t).checksWritesInTransit()) continue;
            try {
                LockState lock = checks.lockFor(t, object.key(), !writes.unlooked().contains(t));
                if (lock != null) lockOnWrite.put(t, lock);
            } catch (RuntimeException e) {
                targets.remove(t);
                failed.put(t, e.getMessage());
                metrics.failed(t);
            }
        }
        if (targets.isEmpty()) return null;
        String lastProblem = "no store holds a verified copy to copy from";
        boolean allLocal = targets.stream().allMatch(t -> config.store(t) instanceof dev.bunker.config.StoreConfig.Local);
        for (String source : sources(copies, targets)) {
            InputStream in;
            try {
                in = stores.get(source).get(object.key(), copies.get(source) == null ? null : copies.get(source).versionId());
            } catch (ObjectNotFoundException e) {
                sourceProblems.put(source, new SourceProblem(CopyState.MISSING, e.getMessage()));
                lastProblem = e.getMessage();
                continue;
            } catch (RuntimeException e) {
                lastProblem = e instanceof StoreException ? e.getMessage()
                        : "unable to read " + ObjectKeys.quote(object.key()) + " from store '" + source + "': " + e.getMessage();
                continue;
            }
            Map<String, FanOut.Sink> sinks = new LinkedHashMap<>();
            String key = object.key();
            long size = object.size() == null ? -1 : object.size();
            for (String t : targets) {
                Store store = stores.get(t);
                boolean asNewVersion = writes.toVersion().contains(t);
                PutOptions options = new PutOptions(size, lockOnWrite.get(t)).withSha256(object.sha256());
                sinks.put(t, pipe -> store.stage(key, pipe, options, asNewVersion));
            }
            FanOut.Result r;
            try (InputStream source0 = in) {
                r = FanOut.run(source0, object.size(), object.sha256(), sinks, sinkPool, allLocal);
            } catch (IOException closeFailed) {
                continue;
            }
            if (r.sourceError() != null) {
                r.written().values().forEach(Staged::discard);
                if (r.sourceError() instanceof FanOut.SourceMismatchException) {
                    sourceProblems.put(source, new SourceProblem(CopyState.CORRUPT, r.sourceError().getMessage()));
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
            for (String t : targets) {
                Exception error = r.failed().get(t);
                if (error != null) {
                    failed.put(t, error.getMessage());
                    if (error instanceof InvalidKeyException) results.permanent().add(t);
                    else if (!(error instanceof ObjectLockedException)) metrics.failed(t);
                    continue;
                }
                Staged staged = r.written().get(t);
                if (!lease.held()) { // another worker owns the job now: it verifies and locks
                    staged.discard();
                    continue;
                }
                try {
                    if (staged.published() && stores.get(t).checksWritesInTransit()) {
                        PutResult written = staged.written();
                        checks.verifySent(t, object, written);
                        LockState lock = lockOnWrite.get(t);
                        results.verified().add(new Copy(t, written.storeChecksum(), written.versionId(),
                                lock == null ? null : lock.retainUntil(), lock != null && lock.legalHold(), false));
                        metrics.copied(t, r.size());
                    } else if (staged.published()) {
                        PutResult written = staged.written();
                        checks.verify(t, object, written);
                        results.verified().add(checks.lock(t, object.key(), written.storeChecksum(), written.versionId()));
                        metrics.copied(t, r.size());
                    } else {
                        checks.verifyStaged(t, object, staged);
                        results.pending().add(new Pending(t, staged, checks.lockFor(t, object.key(), true)));
                    }
                } catch (RuntimeException e) {
                    staged.discard();
                    failed.put(t, e.getMessage());
                    metrics.failed(t);
                }
            }
            return learned;
        }
        for (String t : targets) failed.put(t, lastProblem);
        return null;
    }

    /** The primary first, then verified replicas, hot before cold; never a store we are writing to. */
    private List<String> sources(Map<String, CopyRow> copies, List<String> targets) {
        String primary = config.replication().primary();
        List<String> out = new ArrayList<>();
        CopyRow p = copies.get(primary);
        if (!targets.contains(primary) && (p == null || p.state() == CopyState.VERIFIED)) out.add(primary);
        copies.values().stream()
                .filter(c -> c.state() == CopyState.VERIFIED && !c.store().equals(primary) && !targets.contains(c.store())
                        && stores.containsKey(c.store()) && !config.store(c.store()).archival())
                .sorted(Comparator.comparing(c -> config.store(c.store()).tier()))
                .forEach(c -> out.add(c.store()));
        return out;
    }
}
