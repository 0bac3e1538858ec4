package dev.bunker.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Work folders of restores and drills: private (0700) under {@code <data-dir>/tmp}, and removed whole afterwards. They
 * hold decrypted backups (dumps, WAL, binary logs, spooled rows), so a folder a killed process left is removed by the
 * next one made: its name carries its process's id ({@code restore-p1234-...}).
 */
public final class TempFolders {
    /** Folders that hold files only (no server runs in them), so one whose process is gone is removed whole. */
    private static final Pattern LEFT = Pattern.compile("^(?:restore|binlog|pitr|export|manifest)-p(\\d+)-\\d+$");

    private TempFolders() {}

    /**
     * A new folder only this user can enter, under {@code <dataDir>/tmp}, its name starting with {@code prefix} and this
     * process's id; first removes the folders of processes that are gone.
     */
    public static Path createPrivate(Path dataDir, String prefix) throws IOException {
        Path tmp = dataDir.resolve("tmp");
        Files.createDirectories(tmp);
        removeLeftovers(tmp);
        return Files.createTempDirectory(tmp, prefix + "p" + ProcessHandle.current().pid() + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Removes the work folders under {@code tmp} whose process no longer runs; returns how many. */
    static int removeLeftovers(Path tmp) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp)) {
            for (Path e : entries) {
                Matcher m = LEFT.matcher(e.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(e, LinkOption.NOFOLLOW_LINKS)) continue;
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException tooLong) {
                    continue;
                }
                if (ProcessHandle.of(pid).isPresent()) continue; // running (or its id reused: then kept, the safe way)
                try {
                    deleteTree(e);
                    removed++;
                } catch (IOException racing) {
                    // another process removing it at the same time; whatever is left goes next time
                }
            }
        }
        return removed;
    }

    /** Makes the folder's entries (a file just renamed into it) durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Removes everything in {@code dir}, keeping the folder itself; nothing if it does not exist. */
    public static void empty(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) if (!p.equals(dir)) Files.deleteIfExists(p);
        }
    }

    /** Removes {@code dir} and everything in it; nothing if it does not exist. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
