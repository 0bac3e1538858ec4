package dev.bunker.binlog;

import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.pitr.LogRemoval;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes stored binary log that no kept dump needs: the files before the one the oldest cataloged dump (with a
 * position) starts in, once older than the source's {@code binlog.keep} and past their lock. Data before metadata.
 */
public final class PruneBinlog {
    private static final Pattern KEY = Pattern.compile("([^/]+)/\\d{12}-\\d{12}-(\\d+)\\.(json|zst\\.age)");

    /** What a pass kept (per source, from which file), removed, found still locked, and could not remove. */
    public record Report(List<String> keptFrom, List<String> removed, List<String> lockedStill, List<String> failed) {}

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final BackupCatalog catalog;
    private final Clock clock;

    public PruneBinlog(BackupsConfig config, Map<String, Store> stores, BackupCatalog catalog, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.catalog = catalog;
        this.clock = clock;
    }

    public Report run(boolean dryRun) throws IOException, SQLException {
        List<String> keptFrom = new ArrayList<>();
        LogRemoval removal = new LogRemoval();
        List<BackupCatalog.Entry> entries = catalog.list();
        Instant now = clock.instant();
        for (BackupSource source : config.sources().values()) {
            if (source.binlog() == null) continue;
            Manifest oldest = null;
            for (BackupCatalog.Entry e : entries) { // newest first
                Manifest m = e.manifest();
                if (m.source().equals(source.name()) && m.binlog() != null && m.binlog().file() != null) oldest = m;
            }
            if (oldest == null) continue; // no dump to replay from yet: keep everything
            long firstKept = BinlogChunk.sequence(oldest.binlog().file());
            Instant keepAfter = now.minus(source.binlog().keep());
            for (String name : config.stores()) {
                Store store = stores.get(name);
                removal.remove(name, store, keysBefore(store, source.name(), firstKept, keepAfter), dryRun, "binlog prune");
            }
            keptFrom.add(source.name() + ": from " + oldest.binlog().file() + " (dump " + oldest.id() + ")");
        }
        return new Report(keptFrom, removal.removed, removal.locked, removal.failed);
    }

    /** Keys of files numbered before {@code firstKept}, stored before {@code keepAfter}: data first, then metadata. */
    private static List<String> keysBefore(Store store, String source, long firstKept, Instant keepAfter) {
        String prefix = BinlogChunk.prefix(source);
        List<String> data = new ArrayList<>();
        List<String> meta = new ArrayList<>();
        String after = null;
        do {
            ListPage page = store.list(prefix, after, 1000);
            for (ObjectInfo o : page.objects()) {
                Matcher m = KEY.matcher(o.key().substring(prefix.length()));
                if (!m.matches() || !BinlogChunk.isFileName(m.group(1))) continue;
                if (BinlogChunk.sequence(m.group(1)) >= firstKept) return join(data, meta); // keys sort by file: nothing later is older
                if (!Instant.ofEpochMilli(Long.parseLong(m.group(2))).isBefore(keepAfter)) continue;
                (m.group(3).equals("json") ? meta : data).add(o.key());
            }
            after = page.nextStartAfter();
        } while (after != null);
        return join(data, meta);
    }

    private static List<String> join(List<String> data, List<String> meta) {
        List<String> out = new ArrayList<>(data);
        out.addAll(meta);
        return out;
    }
}
