package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
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
 * A store in a local folder. Objects live under {@code objects/} at the path of their key, locks and
 * older versions as {@link LocalVersions} keeps them, and writes go through {@code tmp/}: write,
 * fsync, rename, fsync the folder, so a crash never leaves a partial object visible.
 *
 * <p>It enforces Object Lock exactly as S3 COMPLIANCE mode does: an object under retention or legal
 * hold cannot be deleted or overwritten, and retention can be extended but never shortened. The
 * enforcement holds within one process; several processes sharing one folder rely on only the
 * lifecycle's cleanup job deleting anything.
 */
public final class LocalStore implements LockableStore {
    private final String name;
    private final Path objects;
    private final Path tmp;
    private final Clock clock;
    private final DurableFiles files;
    private final LocalVersions versions;
    private final ReentrantLock[] stripes = new ReentrantLock[64];

    public LocalStore(String name, Path root, Clock clock) {
        this.name = name;
        this.objects = root.resolve("objects");
        this.tmp = root.resolve("tmp");
        this.clock = clock;
        this.files = new DurableFiles(name, root);
        for (int i = 0; i < stripes.length; i++) stripes[i] = new ReentrantLock();
        try {
            Files.createDirectories(objects);
            Files.createDirectories(tmp);
            this.versions = new LocalVersions(root, files);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, null, "unable to create store folder " + root + ": " + e, e);
        }
        removeLeftoverTempFiles();
    }

    @Override
    public String name() { return name; }

    /** The file holding the object; for operators and tests, never needed by callers of {@link Store}. */
    public Path pathOf(String key) {
        return objects.resolve(ObjectKeys.validate(name, key, ObjectKeys.Limits.ANY_STORE));
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        return write(key, data, options, false);
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        return write(key, data, options, true);
    }

    private PutResult write(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        Path target = pathOf(key);
        Path temp = tmp.resolve(UUID.randomUUID() + ".part");
        try {
            MessageDigest digest = Sha256.newDigest();
            long written = files.write(temp, data, digest);
            if (options.size() >= 0 && written != options.size()) {
                throw new StoreException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name
                        + "': expected " + options.size() + " bytes but the input ended after " + written);
            }
            ReentrantLock lock = stripe(key);
            lock.lock();
            try {
                if (Files.isDirectory(target)) {
                    throw new StoreException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name
                            + "': other objects have keys below it as a folder, and a local store cannot hold both");
                }
                options.checkPrecondition();
                if (asNewVersion && Files.isRegularFile(target)) versions.displace(key, target);
                else refuseIfLocked(key, target, "overwrite");
                if (options.lock() != null) versions.setCurrent(key, options.lock());
                else versions.clearCurrent(key);
                files.move(temp, target);
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

    @Override
    public InputStream get(String key) {
        return get(key, null);
    }

    @Override
    public InputStream get(String key, String versionId) {
        Path p = versionId == null ? pathOf(key) : versions.file(ObjectKeys.validate(name, key, ObjectKeys.Limits.ANY_STORE), versionId);
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

    /** Removes every version; refused, with nothing removed, while any version is protected. */
    @Override
    public void delete(String key) {
        Path target = pathOf(key);
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            List<LocalVersions.Version> older = versions.all(key);
            refuse(key, together(Files.isRegularFile(target) ? versions.current(key) : LockState.NONE, older), "delete");
            for (LocalVersions.Version v : older) versions.delete(v);
            if (Files.isRegularFile(target)) files.delete(target);
            versions.clearCurrent(key);
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
        changeLock(key, retainUntil, legalHold); // one durable write per version for both
    }

    @Override
    public void setLegalHold(String key, boolean on) {
        changeLock(key, null, on);
    }

    /** Sets retention (null: keep; never shortened) and the legal hold (null: keep) of every version. */
    private void changeLock(String key, Instant retainUntil, Boolean legalHold) {
        Path target = pathOf(key);
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            if (!Files.isRegularFile(target)) throw notFound(key);
            LockState current = versions.current(key);
            List<LocalVersions.Version> older = versions.all(key);
            LockState all = together(current, older);
            if (retainUntil != null && all.retainUntil() != null && retainUntil.isBefore(all.retainUntil())) {
                throw new ObjectLockedException(name, key, "unable to shorten the retention of " + ObjectKeys.quote(key) + " in store '" + name
                        + "' to " + retainUntil + ": it is under COMPLIANCE retention until " + all.retainUntil()
                        + ", which can be extended but never shortened");
            }
            for (LocalVersions.Version v : older) versions.setVersion(v, changed(v.lock(), retainUntil, legalHold));
            versions.setCurrent(key, changed(current, retainUntil, legalHold));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to change the lock of " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        } finally {
            lock.unlock();
        }
    }

    private static LockState changed(LockState s, Instant retainUntil, Boolean legalHold) {
        return new LockState(retainUntil != null ? retainUntil : s.retainUntil(), legalHold != null ? legalHold : s.legalHold());
    }

    @Override
    public LockState lockState(String key) {
        Path target = pathOf(key);
        try {
            if (!Files.isRegularFile(target)) throw notFound(key);
            return together(versions.current(key), versions.all(key));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to read the lock of " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        }
    }

    @Override
    public void checkLockingEnabled() {
        // A local folder always enforces locks (see the class comment).
    }

    private void refuseIfLocked(String key, Path target, String action) throws IOException {
        if (Files.isRegularFile(target)) refuse(key, versions.current(key), action);
    }

    private void refuse(String key, LockState state, String action) {
        ObjectLockedException.refuseWhileProtected(name, key, action, state, clock.instant());
    }

    /** The protection of the current version and every older one together: what a delete or a lock change must respect. */
    private static LockState together(LockState current, List<LocalVersions.Version> older) {
        LockState all = current;
        for (LocalVersions.Version v : older) all = all.and(v.lock());
        return all;
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

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: leftover temp files are removed at the next start
        }
    }
}
