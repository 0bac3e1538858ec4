package dev.bunker.store;

import java.util.function.Supplier;

/**
 * The wrapper around every store Bunker opens, on every path (serve, CLI, restore). It refuses
 * {@link #delete} unless the calling thread holds the deletion permit, which only two jobs take: the
 * lifecycle's cleanup job ({@code PurgeExpired}) and backup pruning ({@code PruneBackups}). Rogue or
 * buggy code elsewhere cannot delete objects, whatever credential the store has.
 */
public final class GuardedStore extends ForwardingStore {
    private static final ThreadLocal<String> PERMIT = new ThreadLocal<>();

    public GuardedStore(Store inner) {
        super(inner);
    }

    /** Listing deletes nothing: the inner store's own full listing (a local store's one pass). */
    @Override
    public FullListing fullListing(java.time.Instant now) {
        return inner().fullListing(now);
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

    @Override
    public void delete(String key) {
        if (PERMIT.get() == null) {
            throw new DeletionRefusedException(name(), key, "refusing to delete " + ObjectKeys.quote(key) + " from store '" + name()
                    + "': only the lifecycle's cleanup job deletes objects; trash the object (DELETE /v1/objects/KEY) instead");
        }
        super.delete(key);
    }

    /** A delete outside the cleanup job. */
    public static final class DeletionRefusedException extends StoreException {
        DeletionRefusedException(String store, String key, String message) {
            super(store, key, message);
        }
    }
}
