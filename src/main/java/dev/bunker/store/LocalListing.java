package dev.bunker.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A local store's listing: the {@code objects/} folder walked depth-first in key order. Reading a folder means a stat
 * per entry and a sort, so the sorted entries of large folders are kept while the folder is unchanged: a full listing
 * page by page reads each folder once, not once per page (which made listing a store of a million objects quadratic).
 * A folder of more entries than may be kept is never held whole: each page streams it and keeps only the entries the
 * page needs, so a flat folder of any size lists in bounded memory (reconcile reads such a store in one pass instead,
 * {@link LocalWalk}).
 */
final class LocalListing {
    /** Folders with fewer entries are cheap to re-read; at most this many entries are kept in all. */
    private static final int CACHE_FROM = 1_000;
    private static final int CACHE_ENTRIES = 1_000_000; // about 90 MB of names
    /**
     * A folder changed this recently may change again within the file system's timestamp granularity without its time
     * moving, so it is not kept (as git treats "racily clean" files). File times are the file system's own clock.
     */
    private static final long RACY_MILLIS = 2_000;

    /**
     * A folder's entries in key order: {@code sortKeys[i]} is {@code names[i]}, plus "/" for a folder; or, {@code large},
     * none: the folder holds more than {@code maxSorted} entries and is streamed per page.
     */
    private record Folder(FileTime modified, String[] sortKeys, String[] names, boolean large) {
        static Folder large(FileTime modified) {
            return new Folder(modified, new String[0], new String[0], true);
        }
    }

    private final Path objects;
    private final int maxSorted;
    private final Map<Path, Folder> cache = new LinkedHashMap<>(16, 0.75f, true);
    private int cachedEntries;

    LocalListing(Path objects) {
        this(objects, CACHE_ENTRIES);
    }

    /** {@code maxSorted}: a folder of more entries is streamed per page, never read, sorted or kept whole. */
    LocalListing(Path objects, int maxSorted) {
        this.objects = objects;
        this.maxSorted = maxSorted;
    }

    ListPage list(String prefix, String startAfter, int limit) throws IOException {
        if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
        List<ObjectInfo> out = new ArrayList<>();
        boolean more = walk(objects, "", prefix == null ? "" : prefix, startAfter, limit + 1, out);
        if (out.size() > limit || more) {
            List<ObjectInfo> page = new ArrayList<>(out.subList(0, limit));
            return new ListPage(page, page.get(page.size() - 1).key());
        }
        return new ListPage(out, null);
    }

    /** Depth-first walk in key order (a folder sorts as "name/"), skipping subtrees outside the prefix or before startAfter. */
    private boolean walk(Path dir, String keyPrefix, String prefix, String startAfter, int want, List<ObjectInfo> out)
            throws IOException {
        // Entries sorting before the part of startAfter in this folder hold only keys before it: skip them at once.
        String bound = null;
        if (startAfter != null && startAfter.startsWith(keyPrefix)) {
            String rest = startAfter.substring(keyPrefix.length());
            int slash = rest.indexOf('/');
            bound = slash < 0 ? rest : rest.substring(0, slash + 1);
        }
        Folder folder = read(dir);
        if (folder != null && folder.large()) {
            String within = prefix.startsWith(keyPrefix) ? prefix.substring(keyPrefix.length()) : ""; // the prefix's part in here
            return walkLarge(dir, keyPrefix, bound, within, prefix, startAfter, want, out);
        }
        if (folder == null) return false;
        int from = 0;
        if (bound != null) {
            int at = Arrays.binarySearch(folder.sortKeys(), bound);
            from = at >= 0 ? at : -at - 1;
        }
        for (int i = from; i < folder.names().length; i++) {
            if (visit(dir, keyPrefix + folder.sortKeys()[i], folder.names()[i], prefix, startAfter, want, out)) return true;
        }
        return false;
    }

    /**
     * A folder too large to hold: streamed once per batch of entries, keeping only the next entries in key order from
     * {@code bound} (a batch of what the page still wants; more when entries turn out to hold no key of the page).
     */
    private boolean walkLarge(Path dir, String keyPrefix, String bound, String within, String prefix, String startAfter, int want,
                              List<ObjectInfo> out) throws IOException {
        String lower = bound;
        boolean inclusive = true;
        while (true) {
            int batch = Math.max(want - out.size(), 1) + 16;
            List<String[]> next = select(dir, within, lower, inclusive, batch);
            for (String[] e : next) if (visit(dir, keyPrefix + e[0], e[1], prefix, startAfter, want, out)) return true;
            if (next.size() < batch) return false; // the folder's end
            lower = next.get(next.size() - 1)[0];
            inclusive = false;
        }
    }

    /** One entry of a folder: a file's object, or a folder walked. True when the page is full. */
    private boolean visit(Path dir, String key, String name, String prefix, String startAfter, int want, List<ObjectInfo> out)
            throws IOException {
        Path p = dir.resolve(name);
        if (key.endsWith("/")) {
            boolean overlaps = key.startsWith(prefix) || prefix.startsWith(key);
            boolean allBefore = startAfter != null && key.compareTo(startAfter) < 0 && !startAfter.startsWith(key);
            return overlaps && !allBefore && walk(p, key, prefix, startAfter, want, out);
        }
        if (!key.startsWith(prefix) || (startAfter != null && key.compareTo(startAfter) <= 0)) return false;
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            out.add(new ObjectInfo(key, a.size(), a.lastModifiedTime().toInstant(), null));
        } catch (NoSuchFileException gone) {
            return false; // deleted while listing
        }
        return out.size() >= want;
    }

    /**
     * The first {@code n} entries {sortKey, fileName} of {@code dir} in key order from {@code lower} (null: from the first)
     * that may hold keys starting with {@code within}, read as a stream: memory for {@code n} entries, whatever the folder holds.
     */
    private static List<String[]> select(Path dir, String within, String lower, boolean inclusive, int n) throws IOException {
        java.util.PriorityQueue<String[]> kept = new java.util.PriorityQueue<>(n + 1, (a, b) -> b[0].compareTo(a[0])); // largest on top
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String fileName = p.getFileName().toString();
                if (!fileName.startsWith(within) && !within.startsWith(fileName)) continue; // outside the prefix, folder or not
                // its sort key is the name, or the name plus "/" for a folder (which sorts after it): where both fall on the
                // same side of the bounds, no stat is needed
                String asFolder = fileName + "/";
                if (before(asFolder, lower, inclusive) || !beforeAll(fileName, kept, n)) continue;
                String sortKey = Files.isDirectory(p) ? asFolder : fileName;
                if (before(sortKey, lower, inclusive) || !beforeAll(sortKey, kept, n)) continue;
                kept.add(new String[] {sortKey, fileName});
                if (kept.size() > n) kept.poll();
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return List.of();
        }
        List<String[]> out = new ArrayList<>(kept);
        out.sort((a, b) -> a[0].compareTo(b[0]));
        return out;
    }

    /** Whether {@code sortKey} lies before the lower bound (null: none), or on it when the bound is exclusive. */
    private static boolean before(String sortKey, String lower, boolean inclusive) {
        return lower != null && (inclusive ? sortKey.compareTo(lower) < 0 : sortKey.compareTo(lower) <= 0);
    }

    /** Whether {@code sortKey} belongs among the first {@code n} kept so far (they are fewer, or it sorts before the last). */
    private static boolean beforeAll(String sortKey, java.util.PriorityQueue<String[]> kept, int n) {
        return kept.size() < n || sortKey.compareTo(kept.peek()[0]) < 0;
    }

    /**
     * The folder's sorted entries, from the cache while its modification time is unchanged; null if it is gone, a
     * {@code large} one if it holds more than {@code maxSorted} (found by counting names, without a stat).
     */
    private Folder read(Path dir) throws IOException {
        FileTime modified;
        try {
            modified = Files.getLastModifiedTime(dir);
        } catch (NoSuchFileException e) {
            return null;
        }
        synchronized (cache) {
            Folder kept = cache.get(dir);
            if (kept != null && kept.modified().equals(modified)) return kept;
        }
        List<String> fileNames = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (fileNames.size() == maxSorted) { // never held whole: streamed per page, and known as such while unchanged
                    Folder large = Folder.large(modified);
                    if (System.currentTimeMillis() - modified.toMillis() > RACY_MILLIS) keep(dir, large);
                    return large;
                }
                fileNames.add(p.getFileName().toString());
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null;
        }
        List<String[]> entries = new ArrayList<>(fileNames.size()); // {sortKey, fileName}
        for (String fileName : fileNames) entries.add(new String[] {Files.isDirectory(dir.resolve(fileName)) ? fileName + "/" : fileName, fileName});
        entries.sort((a, b) -> a[0].compareTo(b[0]));
        Folder folder = new Folder(modified, entries.stream().map(e -> e[0]).toArray(String[]::new),
                entries.stream().map(e -> e[1]).toArray(String[]::new), false);
        if (entries.size() >= CACHE_FROM && System.currentTimeMillis() - modified.toMillis() > RACY_MILLIS) keep(dir, folder);
        return folder;
    }

    private void keep(Path dir, Folder folder) {
        synchronized (cache) {
            Folder old = cache.put(dir, folder);
            cachedEntries += folder.names().length - (old == null ? 0 : old.names().length);
            var eldest = cache.entrySet().iterator();
            while (cachedEntries > CACHE_ENTRIES && eldest.hasNext()) {
                Folder f = eldest.next().getValue();
                if (f == folder) continue;
                cachedEntries -= f.names().length;
                eldest.remove();
            }
        }
    }
}
