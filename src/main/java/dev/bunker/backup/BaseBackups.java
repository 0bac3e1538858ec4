package dev.bunker.backup;

import dev.bunker.tools.ToolProcess;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Base backups: {@code pg_basebackup} of a whole cluster as one tar on stdout (the WAL it needs included, so the data
 * directory it restores to starts consistent on its own), and the tar's extraction into a new data directory.
 */
final class BaseBackups {
    private static final Pattern START = Pattern.compile("write-ahead log start point: ([0-9A-F]+/[0-9A-F]+) on timeline (\\d+)");
    private static final Pattern END = Pattern.compile("write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)");

    private BaseBackups() {}

    /** {@code pg_basebackup -D - -Ft -X fetch -c fast}: a checkpoint now rather than at the server's pace; -v prints the WAL positions. */
    static ToolProcess start(Path pgBasebackup, Conninfo conn) throws IOException {
        return ToolProcess.start("pg_basebackup", List.of(pgBasebackup.toString(), "-D", "-", "-Ft", "-X", "fetch", "-c", "fast", "-v",
                "--no-password", "-d", conn.libpqUrl()), conn.password() == null ? Map.of() : Map.of("PGPASSWORD", conn.password()));
    }

    /** Where the backup starts and ends in the WAL, from pg_basebackup's verbose output. */
    static dev.bunker.backup.Manifest.Wal walPosition(String stderr) throws IOException {
        Matcher start = START.matcher(stderr);
        Matcher end = END.matcher(stderr);
        if (!start.find() || !end.find()) {
            throw new IOException("pg_basebackup finished without saying where the backup starts and ends in the WAL: " + stderr.strip());
        }
        return new Manifest.Wal(start.group(1), end.group(1), Integer.parseInt(start.group(2)), null);
    }

    /**
     * Extracts the tar into {@code dir} (which must not exist or be empty) as a PostgreSQL data directory (mode 0700,
     * files 0600), every file synced. Only plain files and folders inside {@code dir} are accepted: an entry that
     * would land outside it, a link or a device stops the extraction. Returns the number of files.
     */
    static long extract(InputStream tar, Path dir) throws IOException {
        prepare(dir);
        Path root = dir.toRealPath();
        long files = 0;
        List<Path> folders = new ArrayList<>(List.of(root));
        // Each file is synced by a pool while the next ones are written (a cluster is a thousand files: syncing each in
        // turn kept the extraction waiting on the disk); the extraction counts as done once every sync has returned.
        java.util.concurrent.ExecutorService syncs = java.util.concurrent.Executors.newFixedThreadPool(SYNC_THREADS, r -> {
            Thread t = new Thread(r, "restore-fsync");
            t.setDaemon(true);
            return t;
        });
        List<java.util.concurrent.Future<?>> pending = new ArrayList<>();
        byte[] buffer = new byte[1 << 20];
        try (TarArchiveInputStream in = new TarArchiveInputStream(new BufferedInputStream(tar, 1 << 16))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root) || e.getName().startsWith("/")) {
                    throw new IOException("the backup's tar has an entry outside the data directory: " + e.getName() + "; nothing was started");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    folders.add(target);
                } else if (e.isFile()) {
                    Files.createDirectories(target.getParent(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    try (FileChannel ch = FileChannel.open(target, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                        // 1 MiB at a time: each read is one call into zstd's decompressor (transferTo's 16 KiB made it 64)
                        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(buffer);
                        for (int n; (n = in.read(buffer)) > 0; ) {
                            bb.clear().limit(n);
                            try {
                                while (bb.hasRemaining()) ch.write(bb);
                            } catch (IOException full) {
                                throw new LocalWriteException(target, full); // this machine's disk, not the backup
                            }
                        }
                    }
                    pending.add(syncs.submit(() -> {
                        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
                            ch.force(true);
                        }
                        return null;
                    }));
                    files++;
                } else {
                    throw new IOException("the backup's tar has an entry that is not a file or folder (a link or device): " + e.getName()
                            + "; base backups of clusters with tablespaces are not supported");
                }
            }
            for (java.util.concurrent.Future<?> f : pending) awaitSync(f);
        } finally {
            syncs.shutdownNow();
        }
        for (Path f : folders) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) { // the folder's entries, durable like the files
                ch.force(true);
            }
        }
        return files;
    }

    private static final int SYNC_THREADS = 4;

    private static void awaitSync(java.util.concurrent.Future<?> f) throws IOException {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("could not sync a restored file: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while syncing the restored files");
        }
    }

    /** Refuses a target directory that exists and holds anything. */
    static void requireNewOrEmpty(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isPresent()) {
                throw new IOException("target directory " + dir + " is not empty; restore a base backup into a new or empty directory");
            }
        }
    }

    private static void prepare(Path dir) throws IOException {
        requireNewOrEmpty(dir);
        if (Files.exists(dir)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } else {
            Files.createDirectories(dir.getParent() == null ? dir.toAbsolutePath().getParent() : dir.getParent());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }
}
