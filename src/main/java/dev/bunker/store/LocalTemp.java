package dev.bunker.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A local store's {@code tmp/}: each process stages its writes in a folder of its own, {@code tmp/PID-START/}. The CLI
 * and serve share a store's folder, and a process that starts must not remove the writes another one has in flight (it
 * did: any command run beside serve broke serve's puts under way).
 */
final class LocalTemp {
    static final String PROCESS_FOLDER = processFolder(ProcessHandle.current());

    private LocalTemp() {}

    /**
     * {@code PID-START}: START is when the process started in clock ticks since boot (/proc/PID/stat), which a clock
     * step does not move (the JDK's start instant adds a boot time each JVM reads once, from the wall clock); where there
     * is no /proc, the JDK's start instant.
     */
    private static String processFolder(ProcessHandle p) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return p.pid() + "-" + Long.parseLong(fields[19]); // field 22 of the line; the fields after the name start at 3
        } catch (IOException | RuntimeException e) {
            return p.pid() + "-" + p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        }
    }

    /**
     * Temp files are only ever half-written objects of a put that died; nothing refers to them. Removed from {@code tmp}:
     * the folders of processes that are gone (a pid alive again is another process if it started at another time), and
     * loose files an earlier version of Bunker left directly in it once they are an hour old.
     */
    static void removeLeftovers(Path tmp) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                try {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        if (!name.equals(PROCESS_FOLDER) && !alive(name)) deleteFolder(p);
                    } else if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(Instant.now().minus(Duration.ofHours(1)))) {
                        LocalStore.deleteQuietly(p);
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // another process opening the store at the same time removed it first
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code folder} ({@code PID-START}) is a live process's. */
    private static boolean alive(String folder) {
        int dash = folder.indexOf('-');
        try {
            long pid = Long.parseLong(folder.substring(0, Math.max(0, dash)));
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(LocalTemp::processFolder).filter(folder::equals).isPresent();
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void deleteFolder(Path folder) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder)) {
            for (Path p : ds) LocalStore.deleteQuietly(p);
        } catch (IOException ignored) {
            // best effort, as for files: tried again at the next open
        }
        LocalStore.deleteQuietly(folder);
    }
}
