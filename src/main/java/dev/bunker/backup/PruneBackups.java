package dev.bunker.backup;

import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.GuardedStore;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes backups past their keep period, never before their lock ends, from every store and then
 * from the catalog; and removes orphans (data without a manifest, left by an interrupted backup)
 * once they are a day old and unlocked. Besides the lifecycle's cleanup job, this is the only code
 * that takes the deletion permit.
 */
public final class PruneBackups {
    /** What a run removed, kept for their lock, and could not remove. */
    public record Report(List<String> removed, List<String> lockedStill, List<String> orphansRemoved, List<String> failed) {}

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
        List<String> locked = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (BackupCatalog.Entry e : catalog.list()) {
            Manifest m = e.manifest();
            if (m.keepUntil().isAfter(now)) continue;
            if (m.retainUntil() != null && m.retainUntil().isAfter(now)) {
                locked.add(m.id());
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
                for (String key : List.of(m.dataKey(), m.manifestKey())) {
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
        return new Report(removed, locked, orphans(now, dryRun), failed);
    }

    /** Data objects with no manifest beside them, older than a day: what an interrupted backup left. */
    private List<String> orphans(Instant now, boolean dryRun) throws IOException {
        List<String> out = new ArrayList<>();
        for (String name : config.stores()) {
            Store store = stores.get(name);
            Set<String> manifests = new HashSet<>();
            List<ObjectInfo> data = new ArrayList<>();
            String after = null;
            do {
                ListPage page = store.list("backups/", after, 1000);
                for (ObjectInfo o : page.objects()) {
                    if (o.key().endsWith(Manifest.SUFFIX)) manifests.add(o.key().substring(0, o.key().length() - Manifest.SUFFIX.length()));
                    else if (o.key().endsWith(".dump.zst.age")) data.add(o);
                }
                after = page.nextStartAfter();
            } while (after != null);
            for (ObjectInfo o : data) {
                String base = o.key().substring(0, o.key().length() - ".dump.zst.age".length());
                if (manifests.contains(base) || o.lastModified().isAfter(now.minus(ORPHAN_AGE))) continue;
                if (dryRun || delete(store, o.key()) == null) out.add(name + ":" + o.key());
            }
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
