package dev.bunker.backup;

import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.GuardedStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes backups past their keep period, never before their lock ends, from every store and then from
 * the catalog, but always keeps the newest {@code keep-newest} of each source and kind and the newest
 * backup of each source that passed a database drill: if backups fail for longer than {@code keep},
 * the last good ones stay. It deletes only keys it can prove it wrote: the three keys of a cataloged
 * backup that follow the backup layout, and the data of an interrupted backup that its attempt row
 * records. Besides the lifecycle's cleanup job, this is the only code that takes the deletion permit.
 */
public final class PruneBackups {
    /** What a run removed, kept (newest or drill-proven), kept for their lock, and could not remove. */
    public record Report(List<String> removed, List<String> kept, List<String> lockedStill, List<String> orphansRemoved, List<String> failed) {}

    private static final Duration ORPHAN_AGE = Duration.ofDays(1);

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final BackupCatalog catalog;
    private final Clock clock;

    public PruneBackups(BackupsConfig config, Map<String, Store> stores, BackupCatalog catalog, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.catalog = catalog;
        this.clock = clock;
    }

    public Report run(boolean dryRun) throws SQLException, IOException {
        Instant now = clock.instant();
        List<String> removed = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        List<String> locked = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        Set<String> proven = catalog.proven();
        Map<String, Integer> newerOfKind = new HashMap<>();
        for (BackupCatalog.Entry e : catalog.list()) { // newest first
            Manifest m = e.manifest();
            int rank = newerOfKind.merge(m.source() + "/" + m.kind(), 1, Integer::sum);
            if (m.keepUntil().isAfter(now)) continue;
            if (rank <= config.keepNewest() || proven.contains(m.id())) {
                kept.add(m.id() + (proven.contains(m.id()) ? " (newest that passed a drill)" : " (one of the newest " + config.keepNewest() + ")"));
                continue;
            }
            if (m.retainUntil() != null && m.retainUntil().isAfter(now)) {
                locked.add(m.id());
                continue;
            }
            if (m.layoutProblem() != null) {
                failed.add(m.id() + " (not removed: " + m.layoutProblem() + ")");
                continue;
            }
            if (dryRun) {
                removed.add(m.id());
                continue;
            }
            List<String> problems = new ArrayList<>();
            for (String name : e.stores()) {
                Store store = stores.get(name);
                if (store == null) continue;
                for (String key : List.of(m.dataKey(), m.signatureKey(), m.manifestKey())) { // the manifest last: it is what lists the backup
                    String p = delete(store, key);
                    if (p != null) problems.add(name + ": " + p);
                }
            }
            if (problems.isEmpty()) {
                catalog.remove(m.id());
                removed.add(m.id());
            } else {
                failed.add(m.id() + " (" + String.join("; ", problems) + ")");
            }
        }
        return new Report(removed, kept, locked, orphans(now, dryRun), failed);
    }

    /**
     * The data of backups that were started over a day ago and never got their manifest: an attempt row proves Bunker
     * wrote the key, so nothing else under the backup key space is ever taken for an orphan.
     */
    private List<String> orphans(Instant now, boolean dryRun) throws SQLException {
        List<String> out = new ArrayList<>();
        for (BackupCatalog.Attempt a : catalog.unfinishedBefore(now.minus(ORPHAN_AGE))) {
            if (!a.dataKey().startsWith(Manifest.ROOT) || !a.dataKey().endsWith(Manifest.DATA_SUFFIX)) continue;
            String manifestKey = a.dataKey().substring(0, a.dataKey().length() - Manifest.DATA_SUFFIX.length()) + Manifest.SUFFIX;
            boolean allGone = true;
            for (String name : a.stores()) {
                Store store = stores.get(name);
                if (store == null) continue;
                if (store.stat(manifestKey).isPresent()) continue; // it did finish, only its catalog row is missing: a backup, not an orphan
                if (store.stat(a.dataKey()).isEmpty()) continue;
                if (dryRun) {
                    out.add(name + ":" + a.dataKey());
                    continue;
                }
                if (delete(store, a.dataKey()) == null) out.add(name + ":" + a.dataKey());
                else allGone = false;
            }
            if (!dryRun && allGone) catalog.forgetAttempt(a.id());
        }
        return out;
    }

    private static String delete(Store store, String key) {
        try {
            GuardedStore.withDeletionPermit("backup prune", () -> {
                store.delete(key);
                return null;
            });
            return store.stat(key).isPresent() ? "still there after delete" : null;
        } catch (ObjectLockedException e) {
            return "locked: " + e.getMessage();
        } catch (StoreException e) {
            return e.getMessage();
        }
    }
}
