package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.replication.Ledger.ObjectRow;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreUnavailableException;
import dev.bunker.store.VerifiedStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads with failover: from the primary, and when it errors, lacks the object or returns bytes whose
 * SHA-256 differs from the ledger, from a verified replica (hot before cold). Objects up to
 * {@link #VERIFY_BEFORE_SENDING} bytes (4 MiB, held in memory) are checked before the first byte goes
 * out, so a bad copy is skipped and the read still succeeds. Larger ones are checked as they stream
 * ({@link VerifiedStream}): the last bytes are released only once size and SHA-256 match, so on a
 * mismatch the response is cut short (every HTTP client reports an incomplete body), the copy is
 * marked corrupt and its repair queued, and the client's retry is served from a verified replica.
 */
public final class ObjectReads {
    static final long VERIFY_BEFORE_SENDING = 4L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(ObjectReads.class);

    /** An open object: where it is served from and its recorded size and SHA-256. */
    public record Opened(String key, long size, String sha256, String store, boolean failover, InputStream body) {}

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Ledger ledger;
    private final ReplicationJobs jobs;
    private final ReplicationMetrics metrics;

    public ObjectReads(BunkerConfig config, Map<String, Store> stores, Ledger ledger, ReplicationJobs jobs, ReplicationMetrics metrics) {
        this.config = config;
        this.stores = stores;
        this.ledger = ledger;
        this.jobs = jobs;
        this.metrics = metrics;
    }

    /** A live object's ledger row; trashed and deleted objects are not found through the normal API. */
    public ObjectRow head(String key) throws SQLException {
        ObjectRow o = ledger.find(key).filter(r -> r.sha256() != null)
                .orElseThrow(() -> new ObjectNotFoundException(config.replication().primary(), key, "no object '" + key + "'"));
        if (o.state() == ObjectState.TRASHED) {
            throw new ObjectNotFoundException(config.replication().primary(), key,
                    "object '" + key + "' is in the trash; restore it with POST /v1/objects/KEY/restore");
        }
        if (o.state() != ObjectState.LIVE) throw new ObjectNotFoundException(config.replication().primary(), key, "object '" + key + "' was deleted");
        return o;
    }

    /** Opens the object from the first store that gives the right bytes. */
    public Opened open(String key) throws SQLException {
        return open(key, Set.of());
    }

    /** As {@link #open(String)}, treating the stores in {@code down} as unavailable (failover rehearsal). */
    public Opened open(String key, Set<String> down) throws SQLException {
        ObjectRow object = head(key);
        List<String> problems = new ArrayList<>();
        List<CopyRow> copies = ledger.copies(key);
        List<String> candidates = new ArrayList<>(candidates(copies));
        for (String d : down) {
            if (candidates.remove(d)) problems.add(d + ": treated as down");
        }
        boolean primaryDown = down.contains(config.replication().primary());
        for (int i = 0; i < candidates.size(); i++) {
            String store = candidates.get(i);
            boolean failover = i > 0 || primaryDown;
            String version = versionOf(copies, store);
            try {
                InputStream in = new VerifiedStream(stores.get(store).get(key, version), object.size(), object.sha256(),
                        "the copy of '" + key + "' in store '" + store + "'", problem -> corrupt(key, store, problem));
                if (object.size() <= VERIFY_BEFORE_SENDING) {
                    try (InputStream closing = in) {
                        in = new ByteArrayInputStream(closing.readAllBytes());
                    } catch (VerifiedStream.MismatchException e) {
                        problems.add(store + ": wrong bytes");
                        continue;
                    }
                }
                if (failover) {
                    metrics.failover(store);
                    LOG.warn("served {} from '{}' because {}", key, store, problems);
                }
                return new Opened(key, object.size(), object.sha256(), store, failover, in);
            } catch (ObjectNotFoundException e) {
                markQuietly(key, store, CopyState.MISSING, e.getMessage());
                problems.add(store + ": missing");
            } catch (RuntimeException | IOException e) {
                problems.add(store + ": " + e.getMessage());
            }
        }
        throw new StoreUnavailableException(config.replication().primary(), key,
                "no store could serve '" + key + "': " + String.join("; ", problems));
    }

    /**
     * For bulk reads of objects whose size and SHA-256 the caller read from the ledger earlier (exports). An object of up
     * to {@link #VERIFY_BEFORE_SENDING} bytes comes from the primary without a ledger query, checked before it is
     * returned; when the primary lacks it or has other bytes, {@link #open} with the primary treated as down. A larger
     * one is {@link #open}ed (one ledger query is nothing beside its bytes), so a primary copy the ledger knows is bad is
     * not read first again. The caller compares the returned SHA-256 with its own: the object may have been purged and
     * uploaded again since; those other bytes are not a corrupt copy and are never marked as one.
     */
    public Opened openKnown(String key, long size, String sha256) throws SQLException {
        if (size > VERIFY_BEFORE_SENDING) return open(key, Set.of());
        String primary = config.replication().primary();
        try {
            InputStream in = new VerifiedStream(stores.get(primary).get(key), size, sha256,
                    "the copy of '" + key + "' in store '" + primary + "'", problem -> corruptUnlessChanged(key, primary, sha256, problem));
            try (InputStream closing = in) {
                byte[] all = new byte[(int) size]; // read straight into one array of the known size
                if (closing.readNBytes(all, 0, all.length) < all.length) { // (the check has thrown: a short copy is a wrong one)
                    throw new IOException("the copy of '" + key + "' in '" + primary + "' is shorter than the ledger's " + size + " bytes");
                }
                if (closing.read() >= 0) throw new IOException("the copy of '" + key + "' in '" + primary + "' is longer than the ledger's " + size + " bytes");
                return new Opened(key, size, sha256, primary, false, new ByteArrayInputStream(all));
            }
        } catch (ObjectNotFoundException e) {
            markQuietly(key, primary, CopyState.MISSING, e.getMessage());
        } catch (RuntimeException | IOException e) {
            LOG.warn("reading {} from '{}' failed, trying the replicas: {}", key, primary, e.getMessage());
        }
        if (ledger.find(key).map(o -> !sha256.equals(o.sha256())).orElse(false)) {
            // replaced since the caller read the ledger (a purge, then an upload): not what the caller asked for, anywhere
            throw new ObjectNotFoundException(primary, key, "its bytes changed since the delivery was planned; the next delivery has them");
        }
        return open(key, Set.of(primary));
    }

    private static String versionOf(List<CopyRow> copies, String store) {
        for (CopyRow c : copies) if (c.store().equals(store)) return c.versionId();
        return null;
    }

    /** The primary unless the ledger knows it is bad, then verified replicas, hot before cold. */
    private List<String> candidates(List<CopyRow> copies) {
        String primary = config.replication().primary();
        List<String> out = new ArrayList<>();
        boolean primaryBad = copies.stream().anyMatch(c -> c.store().equals(primary) && c.state() != CopyState.VERIFIED);
        if (!primaryBad) out.add(primary);
        copies.stream().filter(c -> !c.store().equals(primary) && c.state() == CopyState.VERIFIED && stores.containsKey(c.store()))
                .sorted(Comparator.comparing(c -> config.store(c.store()).tier()))
                .forEach(c -> out.add(c.store()));
        if (primaryBad) out.add(primary); // last resort: the ledger may be out of date
        return out;
    }

    /** {@link #corrupt}, unless the ledger's SHA-256 is no longer {@code expected}: then the caller's is out of date, not the copy. */
    private void corruptUnlessChanged(String key, String store, String expected, String why) {
        try {
            if (ledger.find(key).map(o -> !expected.equals(o.sha256())).orElse(true)) return;
        } catch (SQLException e) {
            LOG.warn("could not check {} in the ledger: {}", key, e.getMessage());
            return;
        }
        corrupt(key, store, why);
    }

    private void corrupt(String key, String store, String why) {
        metrics.corruptCopy(store);
        markQuietly(key, store, CopyState.CORRUPT, why);
    }

    /** Records the bad copy and queues its repair; a read must not fail because the ledger is busy. */
    private void markQuietly(String key, String store, CopyState state, String why) {
        try {
            ledger.mark(key, store, state, why);
            jobs.enqueue(key, List.of(store));
        } catch (SQLException e) {
            LOG.warn("could not record {} copy of {} on '{}': {}", state, key, store, e.getMessage());
        }
    }
}
