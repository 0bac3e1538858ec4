package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A store in a local folder. Objects live under {@code objects/} at the path of their key, locks and
 * older versions as {@link LocalVersions} keeps them, and writes go through {@code tmp/}: write,
 * fsync, rename, fsync the folder, so a crash never leaves a partial object visible. Writes can be
 * group-committed ({@link #stage}, then {@link #publish} of a batch): the same steps, with the fsyncs
 * paid once per batch.
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
    private final LocalListing listing;
    private final Clock clock;
    private final DurableFiles files;
    private final LocalVersions versions;
    private final ReentrantLock[] stripes = new ReentrantLock[64];
    /** The folder may not be written (a vault disk mounted read-only in a recovery): read, and every write refused. */
    private final boolean readOnly;

    public LocalStore(String name, Path root, Clock clock) {
        this.name = name;
        this.readOnly = notWritable(root);
        this.objects = root.resolve("objects");
        this.listing = new LocalListing(objects);
        this.tmp = root.resolve("tmp").resolve(LocalTemp.PROCESS_FOLDER);
        this.clock = clock;
        this.files = new DurableFiles(name, root);
        for (int i = 0; i < stripes.length; i++) stripes[i] = new ReentrantLock();
        if (readOnly) { // nothing to create, probe or clear: reads need none of it
            this.versions = LocalVersions.reading(root, files);
            return;
        }
        try {
            Files.createDirectories(objects);
            Files.createDirectories(tmp);
            this.versions = new LocalVersions(root, files);
            // A name of its own, outside tmp/: processes sharing the folder may start (and clear tmp/) at the same time.
            LocalVersions.checkAttributesSupported(name, root.resolve(".attribute-probe-" + UUID.randomUUID()));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, null, "unable to create store folder " + root + ": " + e, e);
        }
        LocalTemp.removeLeftovers(tmp.getParent());
    }

    /** A store already, on a file system mounted read-only (access(2) says so even to root) or not this user's to write. */
    private static boolean notWritable(Path root) {
        return Files.isDirectory(root.resolve("objects")) && !Files.isWritable(root);
    }

    private void requireWritable(String key, String what) {
        if (readOnly) {
            throw new StoreUnavailableException(name, key, "unable to " + what + " in store '" + name + "': its folder " + objects.getParent()
                    + " is read-only here (a file system mounted read-only, or no write permission for this user): Bunker reads such a "
                    + "store (restores, listings, drills) but never writes it; remount it read-write, or run as its owner, to " + what);
        }
    }

    @Override
    public String name() { return name; }

    /** The file holding the object; for operators and tests, never needed by callers of {@link Store}. */
    public Path pathOf(String key) {
        return objects.resolve(ObjectKeys.validate(name, key, ObjectKeys.Limits.ANY_STORE));
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        return publishOne(stage(key, data, options, false), options.lock());
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        return publishOne(stage(key, data, options, true), options.lock());
    }

    private PutResult publishOne(Staged staged, LockState lock) {
        Publication.Outcome o = publish(List.of(new Publication(staged, lock))).get(0);
        if (!o.ok()) throw o.error();
        return o.result();
    }

    /** Writes the bytes to a temp file under this process's {@code tmp/} folder, unsynced and invisible, hashing them on the way. */
    @Override
    public Staged stage(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        Path target = pathOf(key);
        requireWritable(key, "store " + ObjectKeys.quote(key));
        Path temp = tmp.resolve(UUID.randomUUID() + ".part");
        boolean staged = false;
        try {
            // removed by hand while this process ran: made again, not a failed put (looked at first: createDirectories
            // on a folder that exists costs a failed mkdir and an exception, on every write)
            if (!Files.isDirectory(tmp)) Files.createDirectories(tmp);
            byte[] checked = data instanceof CheckedBytes c ? c.unreadBytes() : null;
            long written;
            String sha256;
            if (checked != null) { // hashed from this very array: writing it does not change it
                files.writeUnsynced(temp, checked);
                written = checked.length;
                sha256 = ((CheckedBytes) data).sha256();
            } else if (data instanceof CheckedChunks chunks && chunks.unread()) { // hashed from these very arrays, checked whole before the end
                written = files.writeUnsynced(temp, chunks);
                sha256 = chunks.sha256();
            } else {
                MessageDigest digest = Sha256.newDigest();
                written = files.writeUnsynced(temp, data, digest);
                sha256 = Sha256.hex(digest.digest());
            }
            options.checkWhole(name, key, written, sha256);
            staged = true;
            return new LocalStaged(this, key, target, temp, options, asNewVersion, new PutResult(written, sha256, null));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        } finally {
            if (!staged) deleteQuietly(temp);
        }
    }

    /**
     * Group commit of staged writes: each file gets its lock (an extended attribute, so no extra file), the
     * files are fsynced together, then renamed into place with put's checks, then each folder is fsynced once.
     */
    @Override
    public List<Publication.Outcome> publish(List<Publication> batch) {
        List<Publication.Outcome> out = new ArrayList<>(batch.size());
        Map<Publication, RuntimeException> failed = new HashMap<>();
        List<Path> temps = new ArrayList<>();
        Map<Path, List<Publication>> byFolder = new LinkedHashMap<>();
        try {
            for (Publication p : batch) {
                LocalStaged s = own(p.staged());
                try {
                    LocalVersions.stageLock(s.temp, p.lock() == null ? LockState.NONE : p.lock());
                    temps.add(s.temp);
                } catch (IOException e) {
                    failed.put(p, unavailable(s.key, e));
                }
            }
            Map<Path, IOException> unsynced = DurableFiles.forceAll(temps);
            for (Publication p : batch) {
                LocalStaged s = (LocalStaged) p.staged();
                if (failed.containsKey(p)) continue;
                if (unsynced.containsKey(s.temp)) {
                    failed.put(p, unavailable(s.key, unsynced.get(s.temp)));
                    continue;
                }
                try {
                    byFolder.computeIfAbsent(rename(s), f -> new ArrayList<>()).add(p);
                } catch (IOException e) {
                    failed.put(p, unavailable(s.key, e));
                } catch (RuntimeException e) {
                    failed.put(p, e);
                }
            }
            for (Map.Entry<Path, List<Publication>> folder : byFolder.entrySet()) {
                try {
                    files.syncDirectory(folder.getKey());
                } catch (IOException e) {
                    for (Publication p : folder.getValue()) failed.put(p, unavailable(p.staged().key(), e));
                }
            }
        } catch (java.io.InterruptedIOException e) {
            Thread.currentThread().interrupt();
            for (Publication p : batch) failed.putIfAbsent(p, unavailable(p.staged().key(), e));
        } finally {
            // A renamed temp file is the object now; only the others are dropped.
            Set<Publication> renamed = new HashSet<>();
            byFolder.values().forEach(renamed::addAll);
            for (Publication p : batch) if (!renamed.contains(p)) p.staged().discard();
        }
        for (Publication p : batch) {
            RuntimeException error = failed.get(p);
            out.add(new Publication.Outcome(p, error == null ? p.staged().written() : null, error));
        }
        return out;
    }

    /** Makes a synced staged file the object (or its new version), with put's checks, under the key's stripe; returns its folder. */
    private Path rename(LocalStaged s) throws IOException {
        ReentrantLock lock = stripe(s.key);
        lock.lock();
        try {
            if (Files.isDirectory(s.target)) {
                throw new StoreException(name, s.key, "unable to store " + ObjectKeys.quote(s.key) + " in store '" + name
                        + "': other objects have keys below it as a folder, and a local store cannot hold both");
            }
            s.options.checkPrecondition();
            if (s.asNewVersion && Files.isRegularFile(s.target)) versions.displace(s.key, s.target);
            else refuseIfLocked(s.key, s.target, "overwrite");
            Path folder = files.moveUnsynced(s.temp, s.target);
            versions.clearLegacy(s.key);
            return folder;
        } finally {
            lock.unlock();
        }
    }

    private LocalStaged own(Staged staged) {
        if (staged instanceof LocalStaged s && s.store == this) return s;
        throw new IllegalArgumentException("store '" + name + "' did not stage " + staged);
    }

    StoreUnavailableException unavailable(String key, IOException e) {
        return new StoreUnavailableException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
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
        try {
            return listing.list(prefix, startAfter, limit);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, null, "unable to list store '" + name + "': " + e, e);
        }
    }

    /** One pass over the objects folder in the file system's order: the same cost per object however the keys are foldered. */
    @Override
    public FullListing fullListing(Instant now) {
        return new LocalWalk(name, objects, now);
    }

    /** Reads the first entries of the objects folder: the same cost at any size. A read-only store fails (nothing can land in it). */
    @Override
    public void probe() {
        requireWritable(null, "store copies and backups");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(objects)) {
            ds.iterator().hasNext();
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            throw new StoreUnavailableException(name, null, "unable to read store '" + name + "' at " + objects + ": " + e, e);
        }
    }

    /** Removes every version; refused, with nothing removed, while any version is protected. */
    @Override
    public void delete(String key) {
        Path target = pathOf(key);
        requireWritable(key, "delete " + ObjectKeys.quote(key));
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            List<LocalVersions.Version> older = versions.all(key);
            refuse(key, together(Files.isRegularFile(target) ? versions.current(key, target) : LockState.NONE, older), "delete");
            for (LocalVersions.Version v : older) versions.delete(v);
            if (Files.isRegularFile(target)) files.delete(target);
            versions.clearLegacy(key);
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
        requireWritable(key, "change the lock of " + ObjectKeys.quote(key));
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            if (!Files.isRegularFile(target)) throw notFound(key);
            LockState current = versions.current(key, target);
            List<LocalVersions.Version> older = versions.all(key);
            LockState all = together(current, older);
            if (retainUntil != null && all.retainUntil() != null && retainUntil.isBefore(all.retainUntil())) {
                throw new ObjectLockedException(name, key, "unable to shorten the retention of " + ObjectKeys.quote(key) + " in store '" + name
                        + "' to " + retainUntil + ": it is under COMPLIANCE retention until " + all.retainUntil()
                        + ", which can be extended but never shortened");
            }
            for (LocalVersions.Version v : older) versions.setVersion(v, v.lock().with(retainUntil, legalHold));
            versions.setCurrent(key, target, current.with(retainUntil, legalHold));
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
            return together(versions.current(key, target), versions.all(key));
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to read the lock of " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        }
    }

    @Override
    public void checkLockingEnabled() {
        // A local folder always enforces locks (see the class comment).
    }

    private void refuseIfLocked(String key, Path target, String action) throws IOException {
        if (Files.isRegularFile(target)) refuse(key, versions.current(key, target), action);
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

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: leftover temp files are removed at the next start
        }
    }
}
