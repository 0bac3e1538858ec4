package dev.bunker.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * Every object of a local store in one pass over its {@code objects/} folder, in the order the file system gives: a
 * folder is read once as a stream, never held or sorted, so the pass costs the same per object in a flat folder of
 * millions as in a deep tree (reconcile takes a listing in any order; a paged listing in key order must sort, and
 * re-reads a folder too large to keep for each page). One stat per entry; memory: one open folder per level.
 */
final class LocalWalk implements FullListing {
    private final String store;
    private final Path objects;
    private final Instant asOf;
    private final Deque<Level> open = new ArrayDeque<>();
    private boolean started;

    /** A folder being read: its stream, and the key prefix of its entries. */
    private record Level(DirectoryStream<Path> stream, Iterator<Path> entries, String keyPrefix) {}

    LocalWalk(String store, Path objects, Instant asOf) {
        this.store = store;
        this.objects = objects;
        this.asOf = asOf;
    }

    @Override public Instant asOf() { return asOf; }

    @Override public boolean live() { return true; }

    @Override public String describe() { return LIVE; }

    @Override
    public List<ObjectInfo> next(int max) {
        List<ObjectInfo> out = new ArrayList<>(Math.min(max, 4096));
        try {
            if (!started) {
                started = true;
                enter(objects, "");
            }
            while (out.size() < max && !open.isEmpty()) {
                Level level = open.peek();
                if (!level.entries().hasNext()) {
                    open.pop().stream().close();
                    continue;
                }
                Path p = level.entries().next();
                String key = level.keyPrefix() + p.getFileName();
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class); // as the paged listing reads them
                } catch (NoSuchFileException gone) {
                    continue; // deleted while listing
                }
                if (a.isDirectory()) enter(p, key + "/");
                else out.add(new ObjectInfo(key, a.size(), a.lastModifiedTime().toInstant(), null));
            }
        } catch (IOException | DirectoryIteratorException | UncheckedIOException e) {
            close();
            throw new StoreUnavailableException(store, null, "unable to list store '" + store + "' at " + objects + ": " + e, e);
        }
        return out;
    }

    /** Opens a folder for reading; one removed meanwhile (or the store's empty root) is simply not there. */
    private void enter(Path dir, String keyPrefix) throws IOException {
        DirectoryStream<Path> ds;
        try {
            ds = Files.newDirectoryStream(dir);
        } catch (NoSuchFileException | NotDirectoryException gone) {
            return;
        }
        open.push(new Level(ds, ds.iterator(), keyPrefix));
    }

    @Override
    public void close() {
        while (!open.isEmpty()) {
            try {
                open.pop().stream().close();
            } catch (IOException ignored) {
                // read-only streams: nothing to lose
            }
        }
    }
}
