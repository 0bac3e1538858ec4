package dev.bunker.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** A local store's listing: the {@code objects/} folder walked depth-first in key order. */
final class LocalListing {
    private LocalListing() {}

    static ListPage list(Path objects, String prefix, String startAfter, int limit) throws IOException {
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
    private static boolean walk(Path dir, String keyPrefix, String prefix, String startAfter, int want, List<ObjectInfo> out)
            throws IOException {
        List<String[]> entries = new ArrayList<>(); // {sortKey, fileName}
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String fileName = p.getFileName().toString();
                entries.add(new String[] {Files.isDirectory(p) ? fileName + "/" : fileName, fileName});
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return false;
        }
        entries.sort((a, b) -> a[0].compareTo(b[0]));
        for (String[] e : entries) {
            String key = keyPrefix + e[0];
            Path p = dir.resolve(e[1]);
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
}
