package dev.bunker.pitr;

import dev.bunker.backup.ManifestTrust;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The WAL chunks of one source in one store: listed, their signed metadata checked, and how far they reach without a gap. */
public final class WalArchive {
    private WalArchive() {}

    /** The trusted chunks (in LSN order) and what was refused, with why. */
    public record Listed(List<WalChunk> chunks, List<String> refused) {}

    /** The first trusted chunk of a cluster of {@code source} in {@code store} from {@code fromSegment} on (null: from the start), if any. */
    public static java.util.Optional<WalChunk> first(Store store, String source, String systemId, ManifestTrust trust, String fromSegment)
            throws IOException {
        String prefix = WalChunk.prefix(source, systemId);
        String after = fromSegment == null ? null : prefix + fromSegment;
        do {
            ListPage page = store.list(prefix, after, 1000);
            for (ObjectInfo o : page.objects()) {
                if (!o.key().endsWith(WalChunk.META_SUFFIX) || HistoryFile.isKey(o.key().substring(prefix.length()))) continue;
                try (InputStream in = store.get(o.key())) {
                    WalChunk.Read r = WalChunk.read(o.key(), in.readNBytes(64 * 1024), trust);
                    if (r.chunk() != null) return java.util.Optional.of(r.chunk());
                }
            }
            after = page.nextStartAfter();
        } while (after != null);
        return java.util.Optional.empty();
    }

    /**
     * Chunks of the cluster {@code systemId} of {@code source} in {@code store} from the segment {@code fromSegment} on (null: all of them), up to the first
     * chunk of WAL not listed before that was received after {@code enoughAfter} (null: to the end).
     */
    public static Listed list(Store store, String source, String systemId, ManifestTrust trust, String fromSegment, Instant enoughAfter)
            throws IOException {
        List<WalChunk> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        String prefix = WalChunk.prefix(source, systemId);
        String after = fromSegment == null ? null : prefix + fromSegment; // every key of that segment sorts after its bare name
        // Enough once a segment held a chunk of new WAL (not one stored again after a restart, which starts before what was
        // already listed) that arrived after the time asked for; that segment is read to its end (a range stored again
        // sorts before the longer original, so stopping inside the segment could miss the original).
        boolean enough = false;
        boolean enoughAtSegmentEnd = false;
        String segment = null;
        long reached = Long.MIN_VALUE;
        int timeline = -1;
        do {
            ListPage page = store.list(prefix, after, PAGE);
            List<String> keys = page.objects().stream().map(ObjectInfo::key).filter(k -> k.endsWith(WalChunk.META_SUFFIX)).toList();
            List<byte[]> metadata = readAll(store, keys);
            for (int i = 0; i < keys.size(); i++) {
                String key = keys.get(i);
                if (HistoryFile.isKey(key.substring(prefix.length()))) continue; // a timeline's history, read on its own
                String keySegment = key.substring(prefix.length(), Math.min(key.length(), prefix.length() + 24));
                if (enoughAtSegmentEnd && !keySegment.equals(segment)) {
                    enough = true;
                    break;
                }
                segment = keySegment;
                WalChunk.Read r = WalChunk.read(key, metadata.get(i), trust);
                if (r.chunk() == null) {
                    refused.add(store.name() + ":" + key + ": " + r.problem());
                    continue;
                }
                out.add(r.chunk());
                if (r.chunk().timeline() != timeline) reached = Long.MIN_VALUE; // a newer timeline's WAL is new, though it starts further back
                timeline = r.chunk().timeline();
                if (enoughAfter != null && r.chunk().receivedAt().isAfter(enoughAfter) && r.chunk().startLsn() >= reached) enoughAtSegmentEnd = true;
                reached = Math.max(reached, r.chunk().endLsn());
            }
            after = page.nextStartAfter();
        } while (after != null && !enough);
        out.sort(Comparator.comparingInt(WalChunk::timeline).thenComparingLong(WalChunk::startLsn).thenComparingLong(WalChunk::endLsn));
        return new Listed(out, refused);
    }

    private static final int PAGE = 250;
    private static final int READERS = 8;

    /** The metadata objects of one page, read 8 at a time (a restore reads one per chunk: a day's WAL is thousands). */
    private static List<byte[]> readAll(Store store, List<String> keys) throws IOException {
        if (keys.size() <= 1) {
            List<byte[]> out = new ArrayList<>();
            for (String k : keys) out.add(readOne(store, k));
            return out;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(READERS, keys.size()), r -> {
            Thread t = new Thread(r, "wal-metadata");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Future<byte[]>> futures = new ArrayList<>();
            for (String k : keys) futures.add(pool.submit(() -> readOne(store, k)));
            List<byte[]> out = new ArrayList<>();
            for (java.util.concurrent.Future<byte[]> f : futures) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) throw io;
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IOException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while reading WAL metadata");
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] readOne(Store store, String key) throws IOException {
        try (InputStream in = store.get(key)) {
            return in.readNBytes(64 * 1024);
        }
    }

    /**
     * How far the chunks of {@code timeline} reach from {@code from} without a gap: the chunks that do it (in order), the
     * LSN reached, when the last of those bytes was received, the latest source time known to have nothing written past
     * them ({@code completeThrough} of those chunks and their markers; null: none), and where a gap starts (null: none).
     */
    public record Coverage(long from, long reached, Instant receivedUntil, Instant completeThrough, List<WalChunk> chunks, String gap) {}

    public static Coverage coverage(List<WalChunk> chunks, int timeline, long from) {
        return coverage(chunks, List.of(new TimelineHistory.Leg(timeline, from, Long.MAX_VALUE)));
    }

    /**
     * How far the chunks reach along a path of timelines (see {@link TimelineHistory#legsFrom}): each stretch must reach
     * where the next begins. Only the last stretch's markers count ({@code completeThrough}): an older timeline's say
     * nothing of the newer one's WAL.
     */
    public static Coverage coverage(List<WalChunk> chunks, List<TimelineHistory.Leg> legs) {
        long from = legs.get(0).from();
        long reached = from;
        Instant until = null;
        Instant complete = null;
        List<WalChunk> used = new ArrayList<>();
        String gap = null;
        for (int i = 0; i < legs.size() && gap == null; i++) {
            TimelineHistory.Leg leg = legs.get(i);
            boolean last = i == legs.size() - 1;
            for (WalChunk c : chunks) {
                if (c.timeline() != leg.timeline() || c.startLsn() >= leg.to() || c.endLsn() < leg.from()) continue;
                if (c.startLsn() > reached) {
                    gap = "no WAL from " + Wal.formatLsn(reached) + " to " + c.start() + (legs.size() > 1 ? " on timeline " + leg.timeline() : "")
                            + " (the next chunk is " + c.name() + ")";
                    break;
                }
                if (last && c.completeThrough() != null && c.endLsn() >= from && (complete == null || c.completeThrough().isAfter(complete))) {
                    complete = c.completeThrough();
                }
                if (c.isMarker() || c.endLsn() <= reached) continue;
                used.add(c);
                reached = c.endLsn();
                until = until == null || c.receivedAt().isAfter(until) ? c.receivedAt() : until;
            }
            if (gap == null && !last && reached < leg.to()) {
                gap = "the WAL of timeline " + leg.timeline() + " stops at " + Wal.formatLsn(reached) + ", before " + Wal.formatLsn(leg.to())
                        + " where timeline " + legs.get(i + 1).timeline() + "'s files begin";
            }
        }
        return new Coverage(from, reached, until, complete, used, gap);
    }
}
