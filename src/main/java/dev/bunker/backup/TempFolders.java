package dev.bunker.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;

/** Work folders of restores and drills: private (0700) under {@code <data-dir>/tmp}, and removed whole afterwards. */
public final class TempFolders {
    private TempFolders() {}

    /** A new folder only this user can enter, under {@code <dataDir>/tmp}, its name starting with {@code prefix}. */
    public static Path createPrivate(Path dataDir, String prefix) throws IOException {
        Path tmp = dataDir.resolve("tmp");
        Files.createDirectories(tmp);
        return Files.createTempDirectory(tmp, prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
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
