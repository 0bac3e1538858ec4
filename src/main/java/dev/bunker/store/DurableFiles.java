package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Crash-safe file writes for a local store: data is written to a temp file and fsynced, renamed into
 * place, and the folder is fsynced, so after a crash a file is either whole or absent. For group
 * commit the steps can run apart: write many temp files unsynced, fsync them together
 * ({@link #forceAll}, in parallel, so the file system joins them into few journal commits), rename
 * them, then fsync each folder once. Folder fsyncs are group-committed too (see {@link DirectorySync}).
 */
final class DurableFiles {
    private static final int BUFFER = 256 * 1024;

    private final String store;
    private final Path root;
    private final ConcurrentHashMap<Path, DirectorySync> dirSyncs = new ConcurrentHashMap<>();

    DurableFiles(String store, Path root) {
        this.store = store;
        this.root = root;
    }

    /** Threads that fsync a batch's files side by side; fsync waits on the disk, not the CPU, hence more threads than cores. */
    private static final java.util.concurrent.ExecutorService FSYNCS = java.util.concurrent.Executors.newFixedThreadPool(16, r -> {
        Thread t = new Thread(r, "local-store-fsync");
        t.setDaemon(true);
        return t;
    });

    /** Writes {@code data} whole to a new file, unsynced. */
    void writeUnsynced(Path temp, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer bb = ByteBuffer.wrap(data);
            while (bb.hasRemaining()) ch.write(bb);
        }
    }

    /** Writes every chunk to a new file {@code temp}, not yet durable; returns the byte count ({@code chunks.sha256()} is their digest). */
    long writeUnsynced(Path temp, CheckedChunks chunks) throws IOException {
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            return chunks.writeTo(ch);
        }
    }

    /**
     * Writes {@code data} to a new file {@code temp}, not yet durable ({@link #forceAll} makes it so); returns the byte
     * count, {@code digest} updated.
     */
    long writeUnsynced(Path temp, InputStream data, MessageDigest digest) throws IOException {
        long written = 0;
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[BUFFER];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            int n;
            while ((n = data.readNBytes(buf, 0, buf.length)) > 0) {
                if (digest != null) digest.update(buf, 0, n);
                bb.clear().limit(n);
                while (bb.hasRemaining()) ch.write(bb);
                written += n;
            }
        }
        return written;
    }

    /** Fsyncs one file (its data and its metadata, extended attributes included). */
    static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Fsyncs every file, several at once; returns the files that failed, with why (empty: all durable). */
    static java.util.Map<Path, IOException> forceAll(List<Path> files) throws java.io.InterruptedIOException {
        java.util.Map<Path, IOException> failed = new java.util.LinkedHashMap<>();
        if (files.size() == 1) {
            try {
                force(files.get(0));
            } catch (IOException e) {
                failed.put(files.get(0), e);
            }
            return failed;
        }
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (Path f : files) running.add(FSYNCS.submit(() -> {
            force(f);
            return null;
        }));
        for (int i = 0; i < files.size(); i++) {
            try {
                running.get(i).get();
            } catch (java.util.concurrent.ExecutionException e) {
                failed.put(files.get(i), e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for fsyncs");
            }
        }
        return failed;
    }

    /** Renames {@code from} over {@code to} atomically and fsyncs the folder. */
    void move(Path from, Path to) throws IOException {
        syncDirectory(moveUnsynced(from, to));
    }

    /**
     * Renames {@code from} over {@code to} atomically (new parent folders are created durably); the rename
     * itself is durable only once the returned folder is synced with {@link #syncDirectory}.
     */
    Path moveUnsynced(Path from, Path to) throws IOException {
        createParents(to);
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically from " + from + " to " + to, e);
        }
        return to.getParent();
    }

    /** Deletes a file and fsyncs its folder; false if there was none. */
    boolean delete(Path file) throws IOException {
        if (!Files.deleteIfExists(file)) return false;
        syncDirectory(file.getParent());
        return true;
    }

    private void createParents(Path target) throws IOException {
        Path parent = target.getParent();
        if (Files.isDirectory(parent)) return;
        // Create and fsync each new folder from the top, so the file's path survives a crash with it.
        List<Path> missing = new ArrayList<>();
        for (Path p = parent; p != null && !Files.isDirectory(p); p = p.getParent()) missing.add(0, p);
        for (Path dir : missing) {
            try {
                Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir)) {
                    String taken = root.relativize(dir).toString();
                    throw new StoreException(store, null, "unable to store under " + taken + "/ in store '" + store
                            + "': an object already has the key " + ObjectKeys.quote(taken.substring(taken.indexOf('/') + 1))
                            + ", and a local store cannot hold a key and keys below it as a folder");
                }
            }
            syncDirectory(dir.getParent());
        }
    }

    /** Makes the renames and deletes done in {@code dir} so far durable. */
    void syncDirectory(Path dir) throws IOException {
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
}
