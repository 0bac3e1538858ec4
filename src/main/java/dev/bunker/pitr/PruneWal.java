package dev.bunker.pitr;

import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Removes stored WAL that no kept base backup needs: the segments (of its cluster) before the oldest base backup of a source in the catalog
 * (run after backup pruning, so that is the oldest one prune kept). Nothing goes while a source has no base backup (the
 * WAL may be all there is), and a locked chunk stays until its lock ends (the store refuses; it is reported and tried
 * again at the next run). Only keys of the WAL layout are touched, the metadata last (it is what lists a chunk).
 */
public final class PruneWal {

    /** Per source: the first segment kept, and the chunks' keys removed and still locked. */
    public record Report(List<String> keptFrom, List<String> removed, List<String> lockedStill, List<String> failed) {}

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final BackupCatalog catalog;
    private final dev.bunker.backup.ManifestTrust trust;

    /** {@code trust}: whose WAL metadata to believe for the segment size (a planted one could move the cut). */
    public PruneWal(BackupsConfig config, Map<String, Store> stores, BackupCatalog catalog, dev.bunker.backup.ManifestTrust trust) {
        this.trust = trust;
        this.config = config;
        this.stores = stores;
        this.catalog = catalog;
    }

    public Report run(boolean dryRun) throws SQLException, IOException {
        List<String> keptFrom = new ArrayList<>();
        LogRemoval removal = new LogRemoval();
        List<BackupCatalog.Entry> entries = catalog.list();
        for (String source : config.sources().keySet()) {
            Manifest oldest = null;
            for (BackupCatalog.Entry e : entries) { // newest first
                Manifest m = e.manifest();
                if (m.source().equals(source) && m.isBase() && m.wal() != null) oldest = m;
            }
            if (oldest == null) continue;
            long start = Wal.parseLsn(oldest.wal().start());
            for (String name : config.stores()) {
                Store store = stores.get(name);
                if (store == null) continue;
                if (oldest.wal().systemId() == null) continue; // taken by an earlier build: its WAL folder is not known, so nothing goes
                removal.remove(name, store, keysBefore(store, source, oldest.wal().systemId(), oldest.wal().timeline(), start), dryRun, "wal prune");
            }
            keptFrom.add(source + ": from the segment of " + oldest.wal().start() + " (base backup " + oldest.id() + ")");
        }
        return new Report(keptFrom, removal.removed, removal.locked, removal.failed);
    }

    /**
     * The keys of {@code source}'s chunks in segments before the one holding {@code start} (of its timeline or an older one),
     * each chunk's data before its metadata (a segment is before another when its name sorts before it on one timeline).
     */
    private List<String> keysBefore(Store store, String source, String systemId, int timeline, long start) throws IOException {
        String prefix = WalChunk.prefix(source, systemId);
        List<String> data = new ArrayList<>();
        List<String> meta = new ArrayList<>();
        String after = null;
        String firstKept = null;
        boolean past = false;
        do {
            ListPage page = store.list(prefix, after, 1000);
            for (ObjectInfo o : page.objects()) {
                Matcher m = WalChunk.KEY.matcher(o.key().substring(prefix.length()));
                if (!m.matches()) continue;
                String segment = m.group(1);
                if (firstKept == null) firstKept = firstSegmentKept(store, source, systemId, timeline, start);
                if (firstKept == null) return List.of();
                // Keys sort by timeline, then segment: from the first kept segment on, nothing more is before it.
                if (Wal.timelineOf(segment) > timeline || segment.compareTo(firstKept) >= 0) {
                    past = true;
                    break;
                }
                (m.group(4).equals(WalChunk.DATA_SUFFIX) ? data : meta).add(o.key());
            }
            after = page.nextStartAfter();
        } while (after != null && !past);
        List<String> out = new ArrayList<>(data);
        out.addAll(meta);
        return out;
    }

    /** The name of the segment holding {@code start}, with the segment size a trusted chunk's metadata gives (null: none). */
    private String firstSegmentKept(Store store, String source, String systemId, int timeline, long start) throws IOException {
        return WalArchive.first(store, source, systemId, trust, null).map(c -> Wal.segmentName(timeline, start, c.segmentSize())).orElse(null);
    }
}
