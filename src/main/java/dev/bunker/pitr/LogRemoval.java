package dev.bunker.pitr;

import dev.bunker.store.GuardedStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes stored log objects (WAL, binary log) a prune found no backup needs, one store at a time: each delete with the
 * deletion permit, an object still under its lock kept and named, a failed delete named with why.
 */
public final class LogRemoval {
    public final List<String> removed = new ArrayList<>();
    public final List<String> locked = new ArrayList<>();
    public final List<String> failed = new ArrayList<>();

    /** Removes {@code keys} (data before metadata) from {@code store}; {@code dryRun}: names them only. */
    public void remove(String name, Store store, List<String> keys, boolean dryRun, String holder) {
        for (String key : keys) {
            if (dryRun) {
                removed.add(name + ":" + key);
                continue;
            }
            try {
                GuardedStore.withDeletionPermit(holder, () -> {
                    store.delete(key);
                    return null;
                });
                removed.add(name + ":" + key);
            } catch (ObjectLockedException e) {
                locked.add(name + ":" + key);
            } catch (StoreException e) {
                failed.add(name + ":" + key + " (" + e.getMessage() + ")");
            }
        }
    }
}
