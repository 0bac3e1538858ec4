package dev.bunker.store;

import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An object store: a flat namespace of immutable-by-convention byte strings under string keys.
 * Every backend (a local folder, an S3 bucket) implements this and passes the same contract tests.
 * Optional abilities, such as Object Lock, are separate interfaces ({@link LockableStore}).
 */
public interface Store extends AutoCloseable {
    /** The name this store has in the configuration. */
    String name();

    /**
     * Streams {@code data} into the object {@code key}, computing its SHA-256 on the way, and returns
     * only once the bytes are durable. A failed put leaves no partial object visible.
     */
    PutResult put(String key, InputStream data, PutOptions options);

    /**
     * Group commit, first half: writes {@code data} for {@code key} (as a new version beside a locked one
     * if {@code asNewVersion}), hashing it, where no reader sees it yet and without waiting for durability.
     * Stores that cannot defer durability put at once and return the write {@link Staged#published()}.
     */
    default Staged stage(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        PutResult written;
        if (!asNewVersion) written = put(key, data, options);
        else if (this instanceof LockableStore l) written = l.putNewVersion(key, data, options);
        else throw new LockNotSupportedException(name(), key, "store '" + name() + "' keeps no versions to write a new one beside a locked object");
        return new Staged.Done(name(), key, written);
    }

    /**
     * Group commit, second half: makes every staged write of the batch durable, then visible under its
     * key with its lock, as {@link #put} would have (same checks, same preconditions), paying the
     * durability once for the batch. Each write succeeds or fails on its own; a failed one leaves nothing visible.
     */
    default List<Publication.Outcome> publish(List<Publication> batch) {
        List<Publication.Outcome> out = new ArrayList<>();
        for (Publication p : batch) {
            if (!p.staged().published()) throw new IllegalArgumentException("store '" + name() + "' did not stage " + p.staged());
            out.add(new Publication.Outcome(p, p.staged().written(), null));
        }
        return out;
    }

    /**
     * Whether a write that returns holds exactly the bytes it was given: the store refused any request body
     * that differed from its Content-MD5 and made the object visible only whole, so the write's own size and
     * SHA-256 (of what was sent) are the copy's and reading it back would prove nothing more. False: replication
     * verifies a new copy by the store's checksum or by reading it back.
     */
    default boolean checksWritesInTransit() {
        return false;
    }

    /** Opens the object for reading; the caller closes the stream. */
    InputStream get(String key);

    /**
     * Opens one version of the object, as a put into a store that keeps versions named it ({@link PutResult#versionId()});
     * null opens the current one. Stores without versions only know null.
     */
    default InputStream get(String key, String versionId) {
        if (versionId == null) return get(key);
        throw new ObjectNotFoundException(name(), key, "store '" + name() + "' keeps no versions; version " + versionId + " of "
                + ObjectKeys.quote(key) + " cannot be there");
    }

    /** Size, time and (where the store keeps one) checksum of the object, or empty if there is none. */
    Optional<ObjectInfo> stat(String key);

    /** Up to {@code limit} objects whose key starts with {@code prefix} and sorts after {@code startAfter} (null: from the start), in key order. */
    ListPage list(String prefix, String startAfter, int limit);

    /**
     * A report of the store's objects taken earlier (an S3 Inventory), to read instead of listing a large store, or
     * empty when the store has none configured. {@code now}: for the report's age.
     */
    default Optional<FullListing> inventory(Instant now) {
        return Optional.empty();
    }

    /**
     * Every object the store holds, in any order, for a full comparison with the ledger (reconcile): by default the paged
     * {@link #list} from the start. {@code now}: when the listing starts.
     */
    default FullListing fullListing(Instant now) {
        return FullListing.live(this, now);
    }

    /** A cheap check that the store answers, for health checks: by default a one-object listing. */
    default void probe() {
        list("", null, 1);
    }

    /**
     * Removes the object (all its versions). Refused with {@link ObjectLockedException} while it is
     * under retention or legal hold; a missing object is not an error.
     */
    void delete(String key);

    @Override
    default void close() {}
}
