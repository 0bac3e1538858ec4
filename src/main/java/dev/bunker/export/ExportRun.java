package dev.bunker.export;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.bunker.backup.TempFolders;
import dev.bunker.export.ExportLedger.Delivery;
import dev.bunker.export.ExportLedger.Item;
import dev.bunker.json.Json;
import dev.bunker.replication.ObjectReads;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.PutOptions;
import dev.bunker.store.ReadAhead;
import dev.bunker.store.Sha256;
import dev.bunker.store.VerifiedStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Writes one delivery's archive: its planned objects in key order under {@code objects/}, then {@code MANIFEST.json}
 * (every object with its size, SHA-256 and creation time, and the keys deleted since the last delivery) and
 * {@code SHA256SUMS} (for {@code sha256sum -c}). Each object's bytes are checked against the ledger's SHA-256 as they
 * are read; a plain tar in a folder is checkpointed (durable, then recorded) every few seconds and resumed from there.
 * The archive gets its final name only once whole and durable, and the delivery is recorded after that.
 */
final class ExportRun {
    record Written(String location, long objects, long bytes, double seconds) {}

    static final long CHECKPOINT_NANOS = 2_000_000_000L;
    static final long CHECKPOINT_BYTES = 256L << 20;
    static final int PAGE = 1000;
    /** Objects larger than this are read (and their SHA-256 checked) ahead of the writing, in chunks; smaller ones whole. */
    static final long READ_AHEAD_ABOVE = 4L << 20;

    private final ExportLedger ledger;
    private final ObjectReads reads;
    private final Clock clock;
    private final Path dataDir;
    private final Delivery d;
    private final Exports.Destination to;
    private final long checkpointBytes;
    private final Consumer<String> progress;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "export-read");
        t.setDaemon(true);
        return t;
    });

    ExportRun(ExportLedger ledger, ObjectReads reads, Clock clock, Path dataDir, Delivery d, Exports.Destination to,
              long checkpointBytes, Consumer<String> progress) {
        this.ledger = ledger;
        this.reads = reads;
        this.clock = clock;
        this.dataDir = dataDir;
        this.d = d;
        this.to = to;
        this.checkpointBytes = checkpointBytes;
        this.progress = progress;
    }

    Written write() throws IOException, SQLException {
        long t0 = System.nanoTime();
        Path work = to.dir() != null ? to.dir() : TempFolders.createPrivate(dataDir, "export-");
        try {
            Files.createDirectories(work);
            Path file = work.resolve(d.fileName());
            Path partial = work.resolve(d.fileName() + ".partial");
            String storeKey = to.store() == null ? null : to.keyPrefix() + d.fileName();
            if (alreadyPublished(file, partial, storeKey)) {
                ledger.finish(d.id(), d.archiveSha256(), clock.instant());
                return new Written(storeKey == null ? file.toString() : "store:" + to.store().name() + "/" + storeKey, 0, 0, (System.nanoTime() - t0) / 1e9);
            }
            boolean resumable = to.dir() != null && d.format().equals("tar") && !d.encrypted();
            boolean resuming = resumable && d.resumeOffset() != null && Files.exists(partial);
            if (!resuming) ledger.restart(d.id());
            long objects = 0;
            long bytes = 0;
            try (ArchiveSink sink = resumable ? new TarFileSink(partial, resuming ? d.resumeOffset() : 0)
                    : new StreamSink(partial, d.format().equals("zip"), d.recipient())) {
                long done = resuming ? d.doneObjects() : 0;
                long sinceCheckpoint = 0;
                long lastCheckpoint = System.nanoTime();
                // The next object is read and checked on a thread of its own while this one is written.
                java.util.Iterator<Item> items = all(false, resuming ? d.resumeKey() : null).iterator();
                Item next = items.hasNext() ? items.next() : null;
                Future<ObjectReads.Opened> opening = next == null ? null : open(next);
                try {
                    while (next != null) {
                        Item item = next;
                        Future<ObjectReads.Opened> opened = opening;
                        next = items.hasNext() ? items.next() : null;
                        opening = next == null ? null : open(next);
                        if (!writeObject(sink, item, opened)) continue;
                        done++;
                        objects++;
                        bytes += item.size();
                        sinceCheckpoint += item.size();
                        if (sinceCheckpoint >= checkpointBytes || System.nanoTime() - lastCheckpoint >= CHECKPOINT_NANOS) {
                            long offset = sink.checkpoint();
                            if (offset >= 0) ledger.checkpoint(d.id(), done, item.key(), offset);
                            sinceCheckpoint = 0;
                            lastCheckpoint = System.nanoTime();
                        }
                        progress.accept(String.format("delivery %d: %d/%d objects, %.1f/%.1f MB", d.id(), done, d.objects(), bytes / 1e6, d.bytes() / 1e6));
                    }
                } finally {
                    discard(opening);
                }
                writeManifest(sink, work);
                String sha = sink.finish();
                ledger.seal(d.id(), sha); // before the archive is visible under its name: a later run can tell it is this delivery's
                publish(partial, file);
                TempFolders.syncDirectory(work);
                String location = file.toString();
                if (to.store() != null) {
                    try (InputStream in = Files.newInputStream(file)) {
                        // checked again right before it becomes visible: the run may have taken hours since the first look
                        to.store().put(storeKey, in, PutOptions.ofSize(Files.size(file)).withSha256(sha).withPrecondition(() -> {
                            if (to.store().stat(storeKey).isPresent()) {
                                throw new ExportException(ExportException.Reason.CONFLICT, "store '" + to.store().name() + "' got an object at "
                                        + storeKey + " while the export was written; it is left as it is: move it away and run again");
                            }
                        }));
                    }
                    location = "store:" + to.store().name() + "/" + storeKey;
                }
                ledger.finish(d.id(), sha, clock.instant());
                return new Written(location, objects, bytes, (System.nanoTime() - t0) / 1e9);
            } catch (IOException | SQLException | RuntimeException e) {
                ledger.failed(d.id(), e.getMessage());
                throw e;
            }
        } finally {
            reader.shutdownNow();
            if (to.dir() == null) TempFolders.deleteTree(work);
        }
    }

    /**
     * Whether an earlier run of this delivery already put its archive where it goes and stopped before recording it.
     * Anything else under the archive's name (a file an operator left, one of another Bunker database whose delivery
     * numbers started again, a link) is never taken for it, nor overwritten: the run stops and says so.
     */
    private boolean alreadyPublished(Path file, Path partial, String storeKey) throws IOException {
        String sealed = d.archiveSha256();
        if (storeKey != null) {
            if (to.store().stat(storeKey).isEmpty()) return false;
            if (sealed != null) {
                try (InputStream in = to.store().get(storeKey)) {
                    if (Sha256.hexOf(in).equals(sealed)) return true;
                }
            }
            throw new ExportException(ExportException.Reason.CONFLICT, "store '" + to.store().name() + "' already has an object at "
                    + storeKey + " that is not this delivery's archive; move it away or export to another path");
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) return false;
        if (sealed != null && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                if (Sha256.hexOf(in).equals(sealed)) {
                    Files.deleteIfExists(partial); // the run stopped between the link and the removal of the temporary name
                    return true;
                }
            }
        }
        throw new ExportException(ExportException.Reason.CONFLICT, to.dir() + " already has a file named " + d.fileName()
                + " that is not this delivery's archive (delivery numbers start again when Bunker's database is new);"
                + " move it away or export to another folder");
    }

    /** Gives the whole, durable archive its name; never replaces a file that appeared there meanwhile. */
    private void publish(Path partial, Path file) throws IOException {
        try {
            Files.createLink(file, partial); // atomic, and fails if the name is taken, where a rename would replace
        } catch (FileAlreadyExistsException e) {
            throw new ExportException(ExportException.Reason.CONFLICT, file + " appeared while the export was written; move it away and run again");
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.move(partial, file); // a file system without hard links: no REPLACE_EXISTING, so a taken name is refused
            return;
        }
        Files.delete(partial);
    }

    /** Writes one object, from another copy when one is bad; false when it is gone from every store (purged meanwhile). */
    private boolean writeObject(ArchiveSink sink, Item item, Future<ObjectReads.Opened> opening) throws IOException, SQLException {
        Set<String> bad = new HashSet<>();
        ObjectReads.Opened opened;
        try {
            opened = await(opening);
        } catch (ObjectNotFoundException e) {
            return skip(item, e.getMessage());
        }
        while (true) {
            if (!opened.sha256().equals(item.sha256())) {
                // Purged and uploaded again since the plan: other bytes under the key, which the manifest does not list.
                opened.body().close();
                return skip(item, "its bytes changed since the delivery was planned; the next delivery has them");
            }
            // A large object is read and checked on a thread of its own while this one writes it (a small one already was).
            try (ReadAhead ahead = item.size() > READ_AHEAD_ABOVE ? new ReadAhead(opened.body(), "export-read-ahead") : null;
                 InputStream body = ahead != null ? ahead.stream() : opened.body()) {
                sink.entry(path(item.key()), item.size(), item.createdAt(), body);
                return true;
            } catch (VerifiedStream.MismatchException e) {
                // The copy read was recorded as corrupt and its repair queued; another store may have the right bytes.
                if (!sink.rollBack()) throw new IOException(e.getMessage() + "; run the export again to read it from a verified copy", e);
                bad.add(opened.store());
                try {
                    opened = reads.open(item.key(), bad);
                } catch (ObjectNotFoundException gone) {
                    return skip(item, gone.getMessage());
                }
            }
        }
    }

    private boolean skip(Item item, String why) throws SQLException {
        ledger.drop(d.id(), item.key());
        progress.accept("skipped " + item.key() + ": " + why);
        return false;
    }

    private Future<ObjectReads.Opened> open(Item item) {
        return reader.submit(() -> reads.openKnown(item.key(), item.size(), item.sha256()));
    }

    /** The opened object, or what opening it threw (unchecked and SQL failures as themselves). */
    private static ObjectReads.Opened await(Future<ObjectReads.Opened> f) throws IOException, SQLException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading an object to export");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof SQLException q) throw q;
            if (cause instanceof IOException io) throw io;
            throw new IOException(cause);
        }
    }

    /** Closes an object opened ahead that will not be written (the run stopped). */
    private static void discard(Future<ObjectReads.Opened> f) {
        if (f == null) return;
        try {
            f.get().body().close();
        } catch (Exception e) {
            // it was not opened, or closing failed: nothing to release either way
        }
    }

    static String path(String key) {
        return "objects/" + key;
    }

    /** MANIFEST.json and SHA256SUMS, built in private temp files (a large export's lists need not fit in memory). */
    private void writeManifest(ArchiveSink sink, Path work) throws IOException, SQLException {
        Path dir = TempFolders.createPrivate(dataDir, "manifest-");
        try {
            Path json = dir.resolve("MANIFEST.json");
            Path sums = dir.resolve("SHA256SUMS");
            try (OutputStream out = Files.newOutputStream(json); JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8);
                 Writer sumsOut = Files.newBufferedWriter(sums, StandardCharsets.UTF_8)) {
                g.useDefaultPrettyPrinter();
                g.writeStartObject();
                g.writeStringField("format", "bunker-export/1");
                g.writeNumberField("delivery", d.id());
                g.writeStringField("subscription", d.subscription());
                g.writeStringField("prefix", d.prefix());
                g.writeStringField("since", d.since() == null ? null : d.since().toString());
                g.writeStringField("plannedAt", d.startedAt().toString());
                g.writeArrayFieldStart("objects");
                for (Item i : all(false, null)) {
                    g.writeStartObject();
                    g.writeStringField("key", i.key());
                    g.writeStringField("path", path(i.key()));
                    g.writeNumberField("size", i.size());
                    g.writeStringField("sha256", i.sha256());
                    g.writeStringField("created", i.createdAt() == null ? null : i.createdAt().toString());
                    g.writeEndObject();
                    sumsOut.write(i.sha256() + "  " + path(i.key()) + "\n");
                }
                g.writeEndArray();
                g.writeArrayFieldStart("deleted"); // delivered earlier, not live any more: the owner may delete their copy
                for (Item i : all(true, null)) {
                    g.writeStartObject();
                    g.writeStringField("key", i.key());
                    g.writeStringField("sha256", i.sha256());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            for (Path p : List.of(json, sums)) {
                try (InputStream in = Files.newInputStream(p)) {
                    sink.entry(p.getFileName().toString(), Files.size(p), clock.instant(), in);
                }
            }
        } finally {
            TempFolders.deleteTree(dir);
        }
    }

    /** Every item of one kind after {@code from} (null: from the first), read page by page. */
    private Iterable<Item> all(boolean deleted, String from) {
        return () -> new java.util.Iterator<>() {
            private List<Item> page = List.of();
            private int next;
            private String after = from;
            private boolean last;

            @Override
            public boolean hasNext() {
                if (next < page.size()) return true;
                if (last) return false;
                try {
                    page = ledger.items(d.id(), deleted, after, PAGE);
                } catch (SQLException e) {
                    throw new IllegalStateException("could not read the delivery's items: " + e.getMessage(), e);
                }
                next = 0;
                last = page.size() < PAGE;
                if (!page.isEmpty()) after = page.get(page.size() - 1).key();
                return !page.isEmpty();
            }

            @Override
            public Item next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                return page.get(next++);
            }
        };
    }
}
