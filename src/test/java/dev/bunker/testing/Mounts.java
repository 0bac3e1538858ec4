package dev.bunker.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Real file systems that misbehave as disks do in a recovery (full, or mounted read-only), made with mount(8): root
 * only, as the CI runs. A test is skipped, saying why, where mounting is not allowed. Closing unmounts.
 */
public final class Mounts implements AutoCloseable {
    private final Path at;

    private Mounts(Path at) {
        this.at = at;
    }

    /** A tmpfs of {@code size} (mount's syntax: "512k", "1m") at {@code at}: writes past it fail with "No space left on device". */
    public static Mounts smallDisk(Path at, String size) throws IOException, InterruptedException {
        Files.createDirectories(at);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString()), "mounting a tmpfs needs root (the CI runs as root)");
        return new Mounts(at);
    }

    /** {@code folder} again at {@code at}, read-only: writes fail with "Read-only file system", even for root. */
    public static Mounts readOnly(Path folder, Path at) throws IOException, InterruptedException {
        Files.createDirectories(at);
        assumeTrue(run("mount", "--bind", folder.toString(), at.toString()), "a bind mount needs root (the CI runs as root)");
        Mounts m = new Mounts(at);
        if (!run("mount", "-o", "remount,ro,bind", at.toString())) {
            m.close();
            assumeTrue(false, "remounting read-only was refused here");
        }
        return m;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("umount", at.toString());
    }

    private static boolean run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
