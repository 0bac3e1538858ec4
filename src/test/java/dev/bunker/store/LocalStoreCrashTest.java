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
        if (args.length > 1) { // "slow": 4 MiB, a 64 KiB piece every 25 ms (about 1.6 s), then exit
            InputStream slow = new InputStream() {
                long left = SLOW_BYTES;

                @Override
                public int read() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left == 0) return -1;
                    int n = (int) Math.min(Math.min(len, 64 * 1024), left);
                    java.util.Arrays.fill(b, off, off + n, (byte) 0x33);
                    left -= n;
                    try {
                        Thread.sleep(25);
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                    return n;
                }
            };
            store.put("slow", slow, PutOptions.unknownSize());
            return;
        }
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

    static final long SLOW_BYTES = 4L << 20;

    /** The CLI beside serve: a store opened by one process leaves another's writes in flight alone (it used to empty tmp/). */
    @Test
    void openingTheStoreInAnotherProcessLeavesAWriteInFlightAlone() throws Exception {
        Process child = ChildJvm.start(dir.resolveSibling(dir.getFileName() + "-slow.log"), LocalStoreCrashTest.class, dir.toString(), "slow");
        waitForTempFileOver(dir.resolve("tmp"), 256 << 10);
        LocalStore beside = new LocalStore("crash", dir, Clock.systemUTC());
        assertThat(tempFiles(dir.resolve("tmp"))).as("the writer's staged file").isNotZero();
        assertThat(child.waitFor()).as(Files.readString(dir.resolveSibling(dir.getFileName() + "-slow.log"))).isZero();
        assertThat(beside.stat("slow").orElseThrow().size()).isEqualTo(SLOW_BYTES);
        assertThat(tempFiles(dir.resolve("tmp"))).isZero();
    }

    private static void waitForTempFileOver(Path tmp, long bytes) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(tmp)) try (Stream<Path> files = Files.walk(tmp).filter(Files::isRegularFile)) {
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
        try (Stream<Path> files = Files.walk(tmp).filter(Files::isRegularFile)) {
            return files.count();
        }
    }
}
