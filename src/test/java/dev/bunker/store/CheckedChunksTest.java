package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.testing.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A large object's chunks, hashed once by their producer, written by a local store without hashing them again. */
@Timeout(30)
class CheckedChunksTest {
    static final int CHUNK = 64 * 1024;

    @TempDir Path dir;
    LocalStore store;
    final byte[] data = new byte[5 * CHUNK + 123];

    @BeforeEach
    void open() {
        new Random(13).nextBytes(data);
        store = new LocalStore("local", dir, MutableClock.atNow());
    }

    /** Feeds {@code data} in chunks from another thread, then ends with {@code sha256} (or fails after {@code failAfter} chunks). */
    private CompletableFuture<Void> produce(CheckedChunks chunks, String sha256, int failAfter) {
        return CompletableFuture.runAsync(() -> {
            try {
                int i = 0;
                for (int off = 0; off < data.length; off += CHUNK, i++) {
                    if (i == failAfter) {
                        chunks.fail(new IOException("the source broke"));
                        return;
                    }
                    chunks.offer(Arrays.copyOfRange(data, off, Math.min(data.length, off + CHUNK)));
                }
                chunks.finish(sha256);
            } catch (IOException e) {
                chunks.fail(e);
            }
        });
    }

    @Test
    void aLocalStoreWritesTheChunksWholeAndTakesTheirCheckedDigest() throws Exception {
        String sha = Sha256.hexOf(data);
        CheckedChunks chunks = new CheckedChunks(2); // fewer slots than chunks: the store writes while they come
        CompletableFuture<Void> producer = produce(chunks, sha, -1);
        PutResult r = store.put("big/ok", chunks, PutOptions.ofSize(data.length).withSha256(sha));
        producer.get();
        assertThat(r.sha256()).isEqualTo(sha);
        assertThat(r.size()).isEqualTo(data.length);
        assertThat(Files.readAllBytes(dir.resolve("objects/big/ok"))).isEqualTo(data);
    }

    @Test
    void aDigestOtherThanTheExpectedOneIsRefusedWithNothingVisible() throws Exception {
        String other = Sha256.hexOf(new byte[] {1});
        CheckedChunks chunks = new CheckedChunks(2);
        CompletableFuture<Void> producer = produce(chunks, Sha256.hexOf(data), -1);
        assertThatThrownBy(() -> store.put("big/wrong", chunks, PutOptions.ofSize(data.length).withSha256(other)))
                .isInstanceOf(StoreException.class).hasMessageContaining("expected " + other);
        producer.get();
        assertThat(store.stat("big/wrong")).isEmpty();
        assertThat(unfinished()).isZero();
    }

    @Test
    void aProducerThatFailsMidwayLeavesNothingBehind() throws Exception {
        CheckedChunks chunks = new CheckedChunks(2);
        CompletableFuture<Void> producer = produce(chunks, Sha256.hexOf(data), 3);
        assertThatThrownBy(() -> store.put("big/broken", chunks, PutOptions.ofSize(data.length)))
                .isInstanceOf(StoreException.class).hasMessageContaining("the source broke");
        producer.get();
        assertThat(store.stat("big/broken")).isEmpty();
        assertThat(unfinished()).isZero();
        // read again after the failure: the same error, not a wait for chunks that never come
        assertThatThrownBy(chunks::read).isInstanceOf(IOException.class).hasMessageContaining("the source broke");
    }

    @Test
    void aPartlyReadStreamIsHashedAsItIsReadNotTakenAtItsWord() throws Exception {
        CheckedChunks chunks = new CheckedChunks(2);
        CompletableFuture<Void> producer = produce(chunks, Sha256.hexOf(data), -1);
        assertThat(chunks.skip(10)).isEqualTo(10);
        byte[] rest = Arrays.copyOfRange(data, 10, data.length);
        // the digest the producer gives is of all the bytes: the store must not take it for the ones it gets
        PutResult r = store.put("big/rest", chunks, PutOptions.ofSize(rest.length));
        producer.get();
        assertThat(r.sha256()).isEqualTo(Sha256.hexOf(rest)).isNotEqualTo(chunks.sha256());
        assertThat(Files.readAllBytes(dir.resolve("objects/big/rest"))).isEqualTo(rest);
    }

    private long unfinished() throws IOException {
        Path tmp = dir.resolve("tmp");
        if (!Files.isDirectory(tmp)) return 0;
        try (Stream<Path> files = Files.walk(tmp).filter(Files::isRegularFile)) {
            return files.count();
        }
    }
}
