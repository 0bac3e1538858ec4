package dev.bunker.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A store in a local folder. Objects live under {@code objects/} at the path of their key, locks as
 * small JSON files under {@code locks/}, and writes go through {@code tmp/}: write, fsync, rename,
 * fsync the folder, so a crash never leaves a partial object visible.
 *
 * <p>It enforces Object Lock exactly as S3 COMPLIANCE mode does: an object under retention or legal
 * hold cannot be deleted or overwritten, and retention can be extended but never shortened. The
 * enforcement holds within one process; several processes sharing one folder rely on only the
 * lifecycle's cleanup job deleting anything.
 */
public final class LocalStore implements LockableStore {
    private static final int BUFFER = 256 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Path objects;
    private final Path locks;
    private final Path tmp;
    private final Clock clock;
    private final ReentrantLock[] stripes = new ReentrantLock[64];
    private final java.util.concurrent.ConcurrentHashMap<Path, DirectorySync> dirSyncs = new java.util.concurrent.ConcurrentHashMap<>();

    public LocalStore(String name, Path root, Clock clock) {
        this.name = name;
        this.objects = root.resolve("objects");
        this.locks = root.resolve("locks");
        this.tmp = root.resolve("tmp");
        this.clock = clock;
        for (int i = 0; i < stripes.length; i++) stripes[i] = new ReentrantLock();
        try {
            Files.createDirectories(objects);
            Files.createDirectories(locks);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, null, "unable to create store folder " + root + ": " + e, e);
        }
        removeLeftoverTempFiles();
    }

    @Override
    public String name() { return name; }

    /** The file holding the object; for operators and tests, never needed by callers of {@link Store}. */
    public Path pathOf(String key) {
        return objects.resolve(ObjectKeys.validate(name, key));
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        Path target = pathOf(key);
        Path temp = tmp.resolve(UUID.randomUUID() + ".part");
        try {
            MessageDigest digest = Sha256.newDigest();
            long written = writeDurably(temp, data, digest);
            if (options.size() >= 0 && written != options.size()) {
                throw new StoreException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name
                        + "': expected " + options.size() + " bytes but the input ended after " + written);
            }
            ReentrantLock lock = stripe(key);
            lock.lock();
            try {
                refuseIfLocked(key, target, "overwrite");
                if (options.lock() != null) writeLockFile(key, options.lock());
                createParents(target);
                moveDurably(temp, target, key);
            } finally {
                lock.unlock();
            }
            return new PutResult(written, Sha256.hex(digest.digest()), null);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    private long writeDurably(Path temp, InputStream data, MessageDigest digest) throws IOException {
        long written = 0;
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[BUFFER];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            int n;
            while ((n = data.readNBytes(buf, 0, buf.length)) > 0) {
                digest.update(buf, 0, n);
                bb.clear().limit(n);
                while (bb.hasRemaining()) ch.write(bb);
                written += n;
            }
            ch.force(true);
        }
        return written;
    }

    private void createParents(Path target) throws IOException {
        Path parent = target.getParent();
        if (Files.isDirectory(parent)) return;
        // Create and fsync each new folder from the top, so the object's path survives a crash with it.
        List<Path> missing = new ArrayList<>();
        for (Path p = parent; p != null && !Files.isDirectory(p); p = p.getParent()) missing.add(0, p);
        for (Path dir : missing) {
            try {
                Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir)) {
                    throw new StoreException(name, null, "unable to store under " + objects.relativize(dir)
                            + "/ in store '" + name + "': an object already has the key " + ObjectKeys.quote(objects.relativize(dir).toString())
                            + ", and a local store cannot hold a key and keys below it as a folder");
                }
            }
            fsyncDirectory(dir.getParent());
        }
    }

    private void moveDurably(Path from, Path to, String key) throws IOException {
        if (Files.isDirectory(to)) {
            throw new StoreException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name
                    + "': other objects have keys below it as a folder, and a local store cannot hold both");
        }
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically from " + from + " to " + to, e);
        }
        fsyncDirectory(to.getParent());
    }

    @Override
    public InputStream get(String key) {
        Path p = pathOf(key);
        try {
            return Files.newInputStream(p);
        } catch (NoSuchFileException e) {
            throw notFound(key);
        } catch (IOException e) {
            if (Files.isDirectory(p)) throw notFound(key);
            throw new StoreUnavailableException(name, key, "unable to read " + ObjectKeys.quote(key) + " from store '" + name + "': " + e, e);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        Path p = pathOf(key);
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (!a.isRegularFile()) return Optional.empty();
            return Optional.of(new ObjectInfo(key, a.size(), a.lastModifiedTime().toInstant(), null));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to stat " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        }
    }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) {
        if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
        List<ObjectInfo> out = new ArrayList<>();
        try {
            boolean more = walk(objects, "", prefix == null ? "" : prefix, startAfter, limit + 1, out);
            if (out.size() > limit || more) {
                List<ObjectInfo> page = new ArrayList<>(out.subList(0, limit));
                return new ListPage(page, page.get(page.size() - 1).key());
            }
            return new ListPage(out, null);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, null, "unable to list store '" + name + "': " + e, e);
        }
    }

    /** Depth-first walk in key order (a folder sorts as "name/"), skipping subtrees outside the prefix or before startAfter. */
    private boolean walk(Path dir, String keyPrefix, String prefix, String startAfter, int want, List<ObjectInfo> out) throws IOException {
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

    @Override
    public void delete(String key) {
        Path target = pathOf(key);
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            refuseIfLocked(key, target, "delete");
            if (Files.isRegularFile(target)) {
                Files.delete(target);
                fsyncDirectory(target.getParent());
            }
            Files.deleteIfExists(locks.resolve(key));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to delete " + ObjectKeys.quote(key) + " from store '" + name + "': " + e, e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        changeLock(key, retainUntil, null);
    }

    @Override
    public void applyLock(String key, Instant retainUntil, boolean legalHold) {
        changeLock(key, retainUntil, legalHold); // one durable write for both
    }

    @Override
    public void setLegalHold(String key, boolean on) {
        changeLock(key, null, on);
    }

    /** Sets retention (null: keep; never shortened) and the legal hold (null: keep) in one durable write. */
    private void changeLock(String key, Instant retainUntil, Boolean legalHold) {
        Path target = pathOf(key);
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            if (!Files.isRegularFile(target)) throw notFound(key);
            LockState current = readLockFile(key);
            if (retainUntil != null && current.retainUntil() != null && retainUntil.isBefore(current.retainUntil())) {
                throw new ObjectLockedException(name, key, "unable to shorten the retention of " + ObjectKeys.quote(key) + " in store '" + name
                        + "' to " + retainUntil + ": it is under COMPLIANCE retention until " + current.retainUntil()
                        + ", which can be extended but never shortened");
            }
            writeLockFile(key, new LockState(retainUntil != null ? retainUntil : current.retainUntil(),
                    legalHold != null ? legalHold : current.legalHold()));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to change the lock of " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public LockState lockState(String key) {
        Path target = pathOf(key);
        try {
            if (!Files.isRegularFile(target)) throw notFound(key);
            return readLockFile(key);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to read the lock of " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        }
    }

    @Override
    public void checkLockingEnabled() {
        // A local folder always enforces locks (see the class comment).
    }

    private void refuseIfLocked(String key, Path target, String action) throws IOException {
        if (!Files.isRegularFile(target)) return;
        LockState state = readLockFile(key);
        if (state.protects(clock.instant())) {
            throw new ObjectLockedException(name, key, "unable to " + action + " " + ObjectKeys.quote(key) + " in store '" + name
                    + "': it is under " + state.describe() + " (COMPLIANCE mode: nobody can " + action + " it before then)");
        }
    }

    private LockState readLockFile(String key) throws IOException {
        Path f = locks.resolve(key);
        if (!Files.isRegularFile(f)) return LockState.NONE;
        ObjectNode n = (ObjectNode) JSON.readTree(f.toFile());
        String until = n.path("retainUntil").asText(null);
        return new LockState(until == null ? null : Instant.parse(until), n.path("legalHold").asBoolean(false));
    }

    private void writeLockFile(String key, LockState state) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("retainUntil", state.retainUntil() == null ? null : state.retainUntil().toString());
        n.put("legalHold", state.legalHold());
        Path f = locks.resolve(key);
        Path temp = tmp.resolve(UUID.randomUUID() + ".lock");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(JSON.writeValueAsBytes(n)));
                ch.force(true);
            }
            createParents(f);
            moveDurably(temp, f, key);
        } finally {
            deleteQuietly(temp);
        }
    }

    private ReentrantLock stripe(String key) {
        return stripes[Math.floorMod(key.hashCode(), stripes.length)];
    }

    private ObjectNotFoundException notFound(String key) {
        return new ObjectNotFoundException(name, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + name + "'");
    }

    /** Temp files are only ever half-written objects of a put that died; nothing refers to them. */
    private void removeLeftoverTempFiles() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
            for (Path p : ds) deleteQuietly(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void fsyncDirectory(Path dir) throws IOException {
        dirSyncs.computeIfAbsent(dir, d -> new DirectorySync()).sync(dir);
    }

    /**
     * Group commit for folder fsyncs: a writer that renamed a file into a folder needs one fsync of the
     * folder that STARTED after its rename. Writers arriving while an fsync runs wait for the next one,
     * which then covers all of them, so 8 concurrent writers into one folder cost about 2 fsyncs, not 8.
     */
    private static final class DirectorySync {
        private long requested;
        private long synced;
        private boolean running;

        void sync(Path dir) throws IOException {
            long mine;
            synchronized (this) {
                mine = ++requested; // our rename is done: any fsync that starts from now on covers it
                while (true) {
                    if (synced >= mine) return;
                    if (!running) {
                        running = true;
                        break;
                    }
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted waiting for a folder fsync");
                    }
                }
            }
            long covering;
            synchronized (this) {
                covering = requested;
            }
            IOException failure = null;
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            } catch (IOException e) {
                failure = e;
            }
            synchronized (this) {
                running = false;
                if (failure == null) synced = Math.max(synced, covering);
                notifyAll();
            }
            if (failure != null) throw failure;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: leftover temp files are removed at the next start
        }
    }
}
