package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.ChildJvm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A process SIGKILLed in the middle of a LocalStore put leaves no partial object, and an older version stays whole. */
@Timeout(120)
class LocalStoreCrashTest {
    @TempDir Path dir;

    /** Child process: overwrites key "victim" with an endless stream of 0x55 bytes, until killed. */
    public static void main(String[] args) {
        LocalStore store = new LocalStore("crash", Path.of(args[0]), Clock.systemUTC());
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 0x55;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) 0x55);
                return len;
            }
        };
        store.put("victim", endless, PutOptions.unknownSize());
    }

    @Test
    void killingAWriterMidPutLeavesTheOldObjectIntactAndNoPartialOne() throws Exception {
        LocalStore store = new LocalStore("crash", dir, Clock.systemUTC());
        byte[] original = "the original bytes".getBytes();
        store.put("victim", new ByteArrayInputStream(original), PutOptions.ofSize(original.length));

        Process child = ChildJvm.start(dir.resolveSibling(dir.getFileName() + ".log"), LocalStoreCrashTest.class, dir.toString());
        waitForTempFileOver(dir.resolve("tmp"), 20 << 20);
        child.destroyForcibly().waitFor();

        // The old object is whole; the half-written one is only a temp file, removed on the next open.
        try (InputStream in = store.get("victim")) {
            assertThat(in.readAllBytes()).isEqualTo(original);
        }
        assertThat(tempFiles(dir.resolve("tmp"))).isNotZero();
        LocalStore reopened = new LocalStore("crash", dir, Clock.systemUTC());
        assertThat(tempFiles(dir.resolve("tmp"))).isZero();
        assertThat(reopened.list("", null, 10).objects()).extracting(ObjectInfo::key).containsExactly("victim");
        assertThat(reopened.stat("victim").orElseThrow().size()).isEqualTo(original.length);
    }

    private static void waitForTempFileOver(Path tmp, long bytes) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Stream<Path> files = Files.list(tmp)) {
                if (files.anyMatch(p -> size(p) > bytes)) return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the child never started writing");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long tempFiles(Path tmp) throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.count();
        }
    }
}
