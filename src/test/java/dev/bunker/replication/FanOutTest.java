package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.store.LocalStore;
import dev.bunker.store.PutOptions;
import dev.bunker.store.Sha256;
import dev.bunker.store.Staged;
import dev.bunker.testing.MutableClock;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A large object read once and written to several local stores, which take the reader's digest instead of hashing again. */
@Timeout(60)
class FanOutTest {
    @TempDir Path dir;
    final ExecutorService pool = Executors.newFixedThreadPool(2);
    final byte[] data = new byte[3 * FanOut.CHUNK + 5]; // four chunks: all of them fit in a sink's queue

    FanOutTest() {
        new Random(21).nextBytes(data);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void aSourceThatScribblesOnBuffersItWasGivenEarlierCannotChangeWhatTheTargetsWrite() throws Exception {
        String sha = Sha256.hexOf(data);
        Map<String, LocalStore> stores = new LinkedHashMap<>();
        Map<String, FanOut.Sink> sinks = new LinkedHashMap<>();
        for (String name : List.of("a", "b")) {
            LocalStore store = new LocalStore(name, dir.resolve(name), MutableClock.atNow());
            stores.put(name, store);
            sinks.put(name, in -> {
                Thread.sleep(300); // the sinks start late: every chunk is read (and scribbled on) before they write any
                return store.stage("big", in, PutOptions.ofSize(data.length).withSha256(sha), false);
            });
        }
        FanOut.Result r = FanOut.run(new ScribblingSource(data), (long) data.length, sha, sinks, pool, false);

        assertThat(r.sourceError()).isNull();
        assertThat(r.failed()).isEmpty();
        for (String name : stores.keySet()) {
            Staged staged = r.written().get(name);
            assertThat(staged.written().sha256()).isEqualTo(sha);
            try (InputStream back = staged.open()) {
                assertThat(Sha256.hexOf(back.readAllBytes())).as("SHA-256 of what store %s staged", name).isEqualTo(sha);
            }
            staged.discard();
        }
    }

    /**
     * A source that keeps every buffer it is asked to read into and, at its end, zeroes those other than the last one:
     * legal for no InputStream, but nothing in the type forbids it. A reader that handed it the arrays the sinks share
     * would see their bytes change after it hashed them.
     */
    static final class ScribblingSource extends InputStream {
        private final byte[] data;
        private final List<byte[]> given = new ArrayList<>();
        private int pos;

        ScribblingSource(byte[] data) {
            this.data = data;
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (given.stream().noneMatch(g -> g == b)) given.add(b);
            if (pos == data.length) {
                for (byte[] g : given) if (g != b) Arrays.fill(g, (byte) 0);
                return -1;
            }
            int n = Math.min(Math.min(len, 8192), data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
