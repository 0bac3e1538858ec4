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
 */
final class LocalListing {
    /** Folders with fewer entries are cheap to re-read; at most this many entries are kept in all. */
    private static final int CACHE_FROM = 1_000;
    private static final int CACHE_ENTRIES = 250_000;
    /**
     * A folder changed this recently may change again within the file system's timestamp granularity without its time
     * moving, so it is not kept (as git treats "racily clean" files). File times are the file system's own clock.
     */
    private static final long RACY_MILLIS = 2_000;

    /** A folder's entries in key order: {@code sortKeys[i]} is {@code names[i]}, plus "/" for a folder. */
    private record Folder(FileTime modified, String[] sortKeys, String[] names) {}

    private final Path objects;
    private final Map<Path, Folder> cache = new LinkedHashMap<>(16, 0.75f, true);
    private int cachedEntries;

    LocalListing(Path objects) {
        this.objects = objects;
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
        Folder folder = read(dir);
        if (folder == null) return false;
        int from = 0;
        if (startAfter != null && startAfter.startsWith(keyPrefix)) {
            // Entries sorting before the part of startAfter in this folder hold only keys before it: skip them at once.
            String rest = startAfter.substring(keyPrefix.length());
            int slash = rest.indexOf('/');
            String bound = slash < 0 ? rest : rest.substring(0, slash + 1);
            int at = Arrays.binarySearch(folder.sortKeys(), bound);
            from = at >= 0 ? at : -at - 1;
        }
        for (int i = from; i < folder.names().length; i++) {
            String key = keyPrefix + folder.sortKeys()[i];
            Path p = dir.resolve(folder.names()[i]);
            if (key.endsWith("/")) {
                boolean overlaps = key.startsWith(prefix) || prefix.startsWith(key);
                boolean allBefore = startAfter != null && key.compareTo(startAfter) < 0 && !startAfter.startsWith(key);
                if (overlaps && !allBefore && walk(p, key, prefix, startAfter, want, out)) return true;
            } else if (key.startsWith(prefix) && (startAfter == null || key.compareTo(startAfter) > 0)) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    out.add(new ObjectInfo(key, a.size(), a.lastModifiedTime().toInstant(), null));
                } catch (NoSuchFileException gone) {
                    continue; // deleted while listing
                }
                if (out.size() >= want) return true;
            }
        }
        return false;
    }

    /** The folder's sorted entries, from the cache while its modification time is unchanged; null if it is gone. */
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
        List<String[]> entries = new ArrayList<>(); // {sortKey, fileName}
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String fileName = p.getFileName().toString();
                entries.add(new String[] {Files.isDirectory(p) ? fileName + "/" : fileName, fileName});
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null;
        }
        entries.sort((a, b) -> a[0].compareTo(b[0]));
        Folder folder = new Folder(modified, entries.stream().map(e -> e[0]).toArray(String[]::new),
                entries.stream().map(e -> e[1]).toArray(String[]::new));
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
