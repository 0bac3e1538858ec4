package dev.bunker.pitr;

import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The timelines a point-in-time restore follows from its base backup: the newest timeline in the stored WAL whose history
 * leads back to the base backup's timeline after the backup ended (the source was promoted, or is a restored copy made
 * production), as PostgreSQL's {@code recovery_target_timeline = latest} would; the base backup's own timeline when there
 * is none. {@code history}: the history file of the timeline followed (null: the base backup's own).
 */
record RestoreRoute(List<TimelineHistory.Leg> legs, HistoryFile history) {

    int timeline() {
        return legs.get(legs.size() - 1).timeline();
    }

    /** The route through one store's chunks (listed from {@code from}, the base backup's first segment). */
    static RestoreRoute of(Store store, Manifest base, List<WalChunk> chunks, long from, long segmentSize, ManifestTrust trust, Consumer<String> notes)
            throws IOException {
        int own = base.wal().timeline();
        TreeSet<Integer> newer = new TreeSet<>();
        for (WalChunk c : chunks) if (c.timeline() > own) newer.add(c.timeline());
        for (int timeline : newer.descendingSet()) {
            Optional<HistoryFile.Stored> h = HistoryFile.find(store, base.source(), base.wal().systemId(), timeline, trust);
            if (h.isEmpty()) {
                notes.accept("store '" + store.name() + "' holds WAL of timeline " + timeline + " but not its history file: not followed");
                continue;
            }
            long leaves = h.get().history().leaves(own);
            if (leaves < Wal.parseLsn(base.wal().end())) continue; // another branch: it left this timeline before the backup was consistent
            List<TimelineHistory.Leg> legs = h.get().history().legsFrom(own, from, segmentSize);
            WalArchive.Coverage joined = WalArchive.coverage(chunks, legs);
            if (joined.reached() <= legs.get(legs.size() - 1).from()) {
                // The way there has a gap (the new timeline's first segment was never stored): the base backup's own
                // timeline still restores what it holds.
                notes.accept("store '" + store.name() + "': timeline " + timeline + " is not followed: " + joined.gap());
                continue;
            }
            return new RestoreRoute(legs, h.get().file());
        }
        return new RestoreRoute(List.of(new TimelineHistory.Leg(own, from, Long.MAX_VALUE)), null);
    }

    /**
     * The commits in the segment files in {@code dir} from {@code from} to {@code to}, each stretch read from its timeline's
     * files, up to the first commit after {@code target} (see {@link WalFiles#commits}).
     */
    WalFiles.Commits commits(Path dir, Manifest base, long from, long to, RecoveryTarget target, Path pgBin) throws IOException {
        Instant lastBefore = null;
        String lastBeforeLsn = null;
        long stoppedAt = from;
        for (TimelineHistory.Leg leg : legs) {
            long start = Math.max(from, leg.from());
            long end = Math.min(to, leg.to());
            if (start >= end) continue;
            WalFiles.Commits c = WalFiles.commits(dir, base, leg.timeline(), start, end, target, pgBin);
            if (c.lastBefore() != null) {
                lastBefore = c.lastBefore();
                lastBeforeLsn = c.lastBeforeLsn();
            }
            stoppedAt = c.stoppedAt();
            if (c.firstAfter() != null || c.stoppedAt() < end) return new WalFiles.Commits(lastBefore, lastBeforeLsn, c.firstAfter(), c.firstAfterLsn(), stoppedAt);
        }
        return new WalFiles.Commits(lastBefore, lastBeforeLsn, null, -1, stoppedAt);
    }
}
