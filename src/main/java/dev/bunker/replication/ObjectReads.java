package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.replication.Ledger.ObjectRow;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads with failover: from the primary, and when it errors, lacks the object or returns bytes whose
 * SHA-256 differs from the ledger, from a verified replica (hot before cold). Objects up to
 * {@link #VERIFY_BEFORE_SENDING} bytes (4 MiB, held in memory) are checked before the first byte goes out; larger ones are
 * checked as they stream, and a mismatch at the end breaks the response (the client sees an error,
 * never silently wrong bytes), marks the copy corrupt and queues its repair so the next read skips it.
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
        if (o.state().equals("trashed")) {
            throw new ObjectNotFoundException(config.replication().primary(), key,
                    "object '" + key + "' is in the trash; restore it with POST /v1/objects/" + key + "/restore");
        }
        if (!o.state().equals("live")) throw new ObjectNotFoundException(config.replication().primary(), key, "object '" + key + "' was deleted");
        return o;
    }

    /** Opens the object from the first store that gives the right bytes. */
    public Opened open(String key) throws SQLException {
        return open(key, java.util.Set.of());
    }

    /** As {@link #open(String)}, treating the stores in {@code down} as unavailable (failover rehearsal). */
    public Opened open(String key, java.util.Set<String> down) throws SQLException {
        ObjectRow object = head(key);
        List<String> problems = new ArrayList<>();
        List<String> candidates = new ArrayList<>(candidates(key));
        for (String d : down) {
            if (candidates.remove(d)) problems.add(d + ": treated as down");
        }
        boolean primaryDown = down.contains(config.replication().primary());
        for (int i = 0; i < candidates.size(); i++) {
            String store = candidates.get(i);
            boolean failover = i > 0 || primaryDown;
            try {
                InputStream in = stores.get(store).get(key);
                if (object.size() <= VERIFY_BEFORE_SENDING) {
                    byte[] bytes;
                    try (InputStream closing = in) {
                        bytes = closing.readAllBytes();
                    }
                    String sha = Sha256.hexOf(bytes);
                    if (!sha.equals(object.sha256()) || bytes.length != object.size()) {
                        corrupt(key, store, "SHA-256 " + sha + " differs from the ledger's " + object.sha256());
                        problems.add(store + ": wrong bytes");
                        continue;
                    }
                    in = new ByteArrayInputStream(bytes);
                } else {
                    in = new CheckedStream(in, key, store, object.sha256());
                }
                if (failover) {
                    metrics.failover(store);
                    LOG.warn("served {} from '{}' because {}", key, store, problems);
                }
                return new Opened(key, object.size(), object.sha256(), store, failover, in);
            } catch (ObjectNotFoundException e) {
                markQuietly(key, store, "missing", e.getMessage());
                problems.add(store + ": missing");
            } catch (RuntimeException | IOException e) {
                problems.add(store + ": " + e.getMessage());
            }
        }
        throw new dev.bunker.store.StoreUnavailableException(config.replication().primary(), key,
                "no store could serve '" + key + "': " + String.join("; ", problems));
    }

    /** The primary unless the ledger knows it is bad, then verified replicas, hot before cold. */
    private List<String> candidates(String key) throws SQLException {
        String primary = config.replication().primary();
        List<CopyRow> copies = ledger.copies(key);
        List<String> out = new ArrayList<>();
        boolean primaryBad = copies.stream().anyMatch(c -> c.store().equals(primary) && !c.state().equals("verified"));
        if (!primaryBad) out.add(primary);
        copies.stream().filter(c -> !c.store().equals(primary) && c.state().equals("verified") && stores.containsKey(c.store()))
                .sorted(Comparator.comparing(c -> config.store(c.store()).tier()))
                .forEach(c -> out.add(c.store()));
        if (primaryBad) out.add(primary); // last resort: the ledger may be out of date
        return out;
    }

    private void corrupt(String key, String store, String why) {
        metrics.corruptCopy(store);
        markQuietly(key, store, "corrupt", why);
    }

    /** Records the bad copy and queues its repair; a read must not fail because the ledger is busy. */
    private void markQuietly(String key, String store, String state, String why) {
        try {
            ledger.mark(key, store, state, why);
            jobs.enqueue(key, List.of(store));
        } catch (SQLException e) {
            LOG.warn("could not record {} copy of {} on '{}': {}", state, key, store, e.getMessage());
        }
    }

    /** Hashes while streaming; at the end a mismatch becomes an IOException, which breaks the HTTP response. */
    private final class CheckedStream extends FilterInputStream {
        private final MessageDigest digest = Sha256.newDigest();
        private final String key;
        private final String store;
        private final String expected;
        private boolean done;

        CheckedStream(InputStream in, String key, String store, String expected) {
            super(in);
            this.key = key;
            this.store = store;
            this.expected = expected;
        }

        @Override
        public int read() throws IOException {
            return dev.bunker.store.Sha256.readOneByte(this);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) digest.update(b, off, n);
            if (n < 0 && !done) {
                done = true;
                String sha = Sha256.hex(digest.digest());
                if (!sha.equals(expected)) {
                    corrupt(key, store, "SHA-256 " + sha + " differs from the ledger's " + expected);
                    throw new IOException("the copy of '" + key + "' in store '" + store + "' is corrupt; the response was cut short, retry to read a replica");
                }
            }
            return n;
        }
    }
}
