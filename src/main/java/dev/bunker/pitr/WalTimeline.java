package dev.bunker.pitr;

import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * What a source can be restored to: the runs of WAL without a gap in one store (read from the chunks' key names, which
 * hold each chunk's segment and range, so a listing is enough; the first and last chunk of each run are read for their
 * times) and, per base backup, the window from its end to the end of the run that holds it.
 */
public final class WalTimeline {

    /**
     * A stretch of one cluster's WAL with no gap: LSNs, and when its first and last chunks arrived. {@code branchedFrom}: for
     * a timeline after the first, the timeline it left and where, as its stored history says ("1 at 0/5004D68"; null: no
     * history stored, so restores do not follow it).
     */
    public record Run(String systemId, int timeline, String from, String to, Instant firstReceived, Instant lastReceived, long chunks,
                      String branchedFrom) {}

    /**
     * A base backup and the times it restores to (null when the WAL after it does not reach its end), and the WAL positions
     * ({@code db restore --to-lsn}): from where the backup is consistent to where the stored WAL after it ends.
     */
    public record Window(String baseBackup, Instant from, Instant to, String problem, String fromLsn, String toLsn) {}

    public record Timeline(String source, String store, List<Run> runs, List<Window> windows) {}

    private WalTimeline() {}

    public static Timeline of(Store store, String source, List<Manifest> bases, ManifestTrust trust) throws IOException {
        List<Run> runs = new ArrayList<>();
        java.util.Map<String, Long> segmentSizes = new java.util.HashMap<>(); // per cluster, from a trusted chunk (0: none)
        String prefix = WalChunk.prefix(source);
        String after = null;
        String sys = null;
        int tl = -1;
        long from = -1;
        long to = -1;
        String firstKey = null;
        String lastKey = null;
        long n = 0;
        do {
            ListPage page = store.list(prefix, after, 1000);
            for (ObjectInfo o : page.objects()) {
                String rest = o.key().substring(prefix.length());
                int slash = rest.indexOf('/');
                if (slash < 0) continue;
                String keySys = rest.substring(0, slash);
                Matcher m = WalChunk.KEY.matcher(rest.substring(slash + 1));
                if (!m.matches() || !m.group(4).equals(WalChunk.META_SUFFIX)) continue;
                long segmentSize = segmentSizes.computeIfAbsent(keySys, k -> segmentSize(store, source, k, trust));
                if (segmentSize == 0) continue;
                int t = Wal.timelineOf(m.group(1));
                long base = Wal.segmentStart(m.group(1), segmentSize);
                long s = base + Long.parseLong(m.group(2), 16);
                long e = base + Long.parseLong(m.group(3), 16);
                if (keySys.equals(sys) && t == tl && s <= to) {
                    to = Math.max(to, e);
                } else {
                    if (n > 0) runs.add(run(store, trust, sys, tl, from, to, firstKey, lastKey, n));
                    sys = keySys;
                    tl = t;
                    from = s;
                    to = e;
                    firstKey = o.key();
                    n = 0;
                }
                lastKey = o.key();
                n++;
            }
            after = page.nextStartAfter();
        } while (after != null);
        if (n > 0) runs.add(run(store, trust, sys, tl, from, to, firstKey, lastKey, n));
        java.util.Map<String, TimelineHistory> histories = new java.util.HashMap<>();
        for (int i = 0; i < runs.size(); i++) {
            Run r = runs.get(i);
            if (r.timeline() < 2) continue;
            var h = HistoryFile.find(store, source, r.systemId(), r.timeline(), trust);
            if (h.isEmpty()) continue;
            TimelineHistory.Switch last = h.get().history().last();
            histories.put(r.systemId() + "/" + r.timeline(), h.get().history());
            runs.set(i, new Run(r.systemId(), r.timeline(), r.from(), r.to(), r.firstReceived(), r.lastReceived(), r.chunks(),
                    last.parent() + " at " + Wal.formatLsn(last.at())));
        }
        List<Window> windows = new ArrayList<>();
        for (Manifest b : bases) {
            if (b.wal() == null) continue;
            long start = Wal.parseLsn(b.wal().start());
            long end = Wal.parseLsn(b.wal().end());
            long segmentSize = b.wal().systemId() == null ? 0 : segmentSizes.getOrDefault(b.wal().systemId(), 0L);
            Run holding = segmentSize == 0 ? null : runs.stream().filter(r -> r.systemId().equals(b.wal().systemId()) && r.timeline() == b.wal().timeline()
                    && Wal.parseLsn(r.from()) <= start - start % segmentSize && Wal.parseLsn(r.to()) >= end).findFirst().orElse(null);
            Run followed = holding == null ? null : followed(runs, histories, b, start - start % segmentSize, segmentSize);
            Run reaches = followed != null ? followed : holding;
            windows.add(holding == null ? new Window(b.id(), null, null, "the stored WAL does not hold " + b.wal().start() + " to " + b.wal().end()
                    + (b.wal().systemId() == null ? "" : " of cluster " + b.wal().systemId()), null, null)
                    : new Window(b.id(), b.finishedAt(), reaches.lastReceived(), null, b.wal().end(), reaches.to()));
        }
        return new Timeline(source, store.name(), runs, windows);
    }

    /** The last run of the newest timeline a restore from {@code b} follows (as {@link RestoreRoute} does), when every stretch of the way is stored. */
    private static Run followed(List<Run> runs, java.util.Map<String, TimelineHistory> histories, Manifest b, long from, long segmentSize) {
        Run best = null;
        for (Run r : runs) {
            TimelineHistory h = histories.get(r.systemId() + "/" + r.timeline());
            if (!r.systemId().equals(b.wal().systemId()) || h == null || h.leaves(b.wal().timeline()) < Wal.parseLsn(b.wal().end())) continue;
            if (best != null && best.timeline() >= r.timeline()) continue;
            boolean covered = true;
            Run last = null;
            for (TimelineHistory.Leg leg : h.legsFrom(b.wal().timeline(), from, segmentSize)) {
                if (leg.from() >= leg.to()) continue;
                last = runs.stream().filter(x -> x.systemId().equals(r.systemId()) && x.timeline() == leg.timeline() && Wal.parseLsn(x.from()) <= leg.from()
                        && (leg.to() == Long.MAX_VALUE || Wal.parseLsn(x.to()) >= leg.to())).findFirst().orElse(null);
                if (last == null) {
                    covered = false;
                    break;
                }
            }
            if (covered) best = last;
        }
        return best;
    }

    private static long segmentSize(Store store, String source, String systemId, ManifestTrust trust) {
        try {
            return WalArchive.first(store, source, systemId, trust, null).map(WalChunk::segmentSize).orElse(0L);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Run run(Store store, ManifestTrust trust, String systemId, int timeline, long from, long to, String firstKey, String lastKey,
                           long n) throws IOException {
        return new Run(systemId, timeline, Wal.formatLsn(from), Wal.formatLsn(to), receivedAt(store, firstKey, trust), receivedAt(store, lastKey, trust), n,
                null);
    }

    private static Instant receivedAt(Store store, String metaKey, ManifestTrust trust) throws IOException {
        if (metaKey == null) return null;
        try (InputStream in = store.get(metaKey)) {
            WalChunk.Read r = WalChunk.read(metaKey, in.readNBytes(64 * 1024), trust);
            if (r.chunk() == null) return null;
            return r.chunk().completeThrough() != null && r.chunk().completeThrough().isAfter(r.chunk().receivedAt())
                    ? r.chunk().completeThrough() : r.chunk().receivedAt();
        }
    }
}
