package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Store} must have. Each backend's test extends this and says how to make
 * a fresh, empty store; the same tests then run against all of them.
 */
@Timeout(120)
abstract class StoreContract {
    /** A new empty store; {@code partSize} is a hint for backends that split large objects. */
    protected abstract Store newStore();

    /** Bytes big enough that the backend must split or stream them (several parts for S3). */
    protected int largeObjectSize() {
        return 12 << 20;
    }

    /** Uploads begun and not finished (S3 multipart uploads, a local store's temp files): a failed put must leave none. */
    protected abstract int unfinishedUploads();

    /** Versions (and delete markers) the store still keeps of {@code key}: zero once it is deleted. */
    protected abstract int versionsKept(String key);

    protected Store store;
    private final Random random = new Random(42);

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    protected PutResult put(String key, byte[] data) {
        return store.put(key, new ByteArrayInputStream(data), PutOptions.ofSize(data.length));
    }

    protected byte[] read(String key) throws IOException {
        try (InputStream in = store.get(key)) {
            return in.readAllBytes();
        }
    }

    @Test
    void putThenGetReturnsTheSameBytesAndTheirSha256() throws IOException {
        byte[] data = randomBytes(100_000);
        PutResult r = put("photos/2024/a.jpg", data);
        assertThat(r.size()).isEqualTo(data.length);
        assertThat(r.sha256()).isEqualTo(Sha256.hexOf(data));
        assertThat(read("photos/2024/a.jpg")).isEqualTo(data);
    }

    @Test
    void emptyObjectsAreObjects() throws IOException {
        PutResult r = put("empty", new byte[0]);
        assertThat(r.size()).isZero();
        assertThat(r.sha256()).isEqualTo(Sha256.hexOf(new byte[0]));
        assertThat(read("empty")).isEmpty();
        assertThat(store.stat("empty")).hasValueSatisfying(i -> assertThat(i.size()).isZero());
    }

    @Test
    void largeObjectOfUnknownSizeStreamsThroughIntact() throws IOException {
        byte[] data = randomBytes(largeObjectSize() + 12345);
        PutResult r = store.put("big/object.bin", new ByteArrayInputStream(data), PutOptions.unknownSize());
        assertThat(r.size()).isEqualTo(data.length);
        assertThat(r.sha256()).isEqualTo(Sha256.hexOf(data));
        assertThat(read("big/object.bin")).isEqualTo(data);
        assertThat(store.stat("big/object.bin").orElseThrow().size()).isEqualTo(data.length);
    }

    @Test
    void statReportsSizeAndTheChecksumThePutReturned() {
        byte[] data = randomBytes(4096);
        PutResult r = put("a/b", data);
        ObjectInfo info = store.stat("a/b").orElseThrow();
        assertThat(info.key()).isEqualTo("a/b");
        assertThat(info.size()).isEqualTo(4096);
        assertThat(info.lastModified()).isAfter(Instant.now().minus(1, ChronoUnit.HOURS));
        // A store that confirmed a checksum must report the same one; one that keeps none (RGW ignores x-amz-checksum-*)
        // confirms none, so verification falls back to reading back.
        if (r.storeChecksum() != null) assertThat(info.storeChecksum()).isEqualTo(r.storeChecksum());
        else assertThat(info.storeChecksum()).isNull();
    }

    @Test
    void missingObjectsAreEmptyOnStatAndNotFoundOnGet() {
        assertThat(store.stat("nope")).isEmpty();
        assertThatThrownBy(() -> store.get("nope").close()).isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("'nope'").hasMessageContaining(store.name());
    }

    @Test
    void aPutWhoseInputIsShorterThanDeclaredFailsAndLeavesNothing() {
        byte[] data = randomBytes(1000);
        assertThatThrownBy(() -> store.put("short", new ByteArrayInputStream(data), PutOptions.ofSize(2000)))
                .isInstanceOf(StoreException.class).hasMessageContaining("expected 2000 bytes");
        assertThat(store.stat("short")).isEmpty();
    }

    @Test
    void aPutWhoseInputFailsMidwayLeavesNoObjectAndNoUnfinishedUpload() {
        for (int failAfter : new int[] {3 << 20, largeObjectSize() + 1000}) { // in the first part, and after parts were sent
            InputStream failing = new InputStream() {
                int left = failAfter;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) throw new IOException("client went away");
                    int n = Math.min(len, left);
                    java.util.Arrays.fill(b, off, off + n, (byte) 7);
                    left -= n;
                    return n;
                }

                @Override
                public int read() throws IOException {
                    throw new UnsupportedOperationException("the stores read in blocks");
                }
            };
            assertThatThrownBy(() -> store.put("broken", failing, PutOptions.unknownSize())).isInstanceOf(StoreException.class);
            assertThat(store.stat("broken")).isEmpty();
            assertThat(store.list("", null, 10).objects()).isEmpty();
            assertThat(unfinishedUploads()).as("unfinished uploads after failing at %d bytes", failAfter).isZero();
        }
    }

    @Test
    void overwritingAnUnlockedObjectReplacesIt() throws IOException {
        put("k", randomBytes(10));
        byte[] second = randomBytes(20);
        put("k", second);
        assertThat(read("k")).isEqualTo(second);
    }

    @Test
    void listingFiltersByPrefixAndPagesInKeyOrder() {
        // No key is also a folder of other keys: a local store cannot hold both (LocalStoreTest covers that).
        List<String> keys = List.of("a-b", "a.txt", "a/b/c", "a/b/d", "a/c", "b/x", "b/y/z", "c");
        for (String k : keys) put(k, randomBytes(3));
        assertThat(listAll("", 3)).containsExactlyElementsOf(keys);
        assertThat(listAll("a/", 1)).containsExactly("a/b/c", "a/b/d", "a/c");
        assertThat(listAll("b", 2)).containsExactly("b/x", "b/y/z");
        assertThat(listAll("zzz", 2)).isEmpty();
        ListPage afterAB = store.list("", "a/b/c", 2);
        assertThat(afterAB.objects()).extracting(ObjectInfo::key).containsExactly("a/b/d", "a/c");
        assertThat(afterAB.hasMore()).isTrue();
        assertThat(store.list("", "c", 5).objects()).isEmpty();
        assertThat(store.list("", null, 100).objects()).allSatisfy(o -> assertThat(o.size()).isEqualTo(3));
    }

    private List<String> listAll(String prefix, int pageSize) {
        List<String> out = new ArrayList<>();
        String after = null;
        do {
            ListPage page = store.list(prefix, after, pageSize);
            assertThat(page.objects().size()).isLessThanOrEqualTo(pageSize);
            page.objects().forEach(o -> out.add(o.key()));
            after = page.nextStartAfter();
        } while (after != null);
        return out;
    }

    @Test
    void deleteRemovesTheObjectAndEveryVersionAndDeletingAgainIsNoError() {
        put("gone/soon", randomBytes(5));
        store.delete("gone/soon");
        assertThat(store.stat("gone/soon")).isEmpty();
        assertThat(versionsKept("gone/soon")).as("versions or delete markers left behind").isZero();
        store.delete("gone/soon");
        store.delete("never/existed");
        assertThat(versionsKept("never/existed")).isZero();
    }

    @Test
    void aDeletedKeyCanBeCreatedAgain() throws IOException {
        put("again", randomBytes(50));
        store.delete("again");
        byte[] second = randomBytes(70);
        put("again", second);
        assertThat(read("again")).isEqualTo(second);
        assertThat(versionsKept("again")).isEqualTo(1);
    }

    @Test
    void listingPagesThroughMoreThanAThousandKeys() throws Exception {
        int n = 1005;
        java.util.TreeSet<String> keys = new java.util.TreeSet<>();
        for (int i = 0; i < n; i++) keys.add(String.format("many/%05d", i));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            for (java.util.concurrent.Future<?> f : pool.invokeAll(keys.stream().<java.util.concurrent.Callable<Object>>map(k -> () -> put(k, new byte[] {1})).toList())) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        ListPage first = store.list("many/", null, 5000);
        assertThat(first.objects().size()).isBetween(1, 5000);
        assertThat(listAll("many/", 5000)).containsExactlyElementsOf(keys);
        assertThat(listAll("many/", 1000)).containsExactlyElementsOf(keys);
    }

    @Test
    void invalidKeysAreRefusedWithTheReason() {
        for (String bad : new String[] {"", "/abs", "a/../b", "..", "./a", "a//b", "dir/", "nul\0byte", "tab\there", "x".repeat(1025),
                "c1\u0085control"}) {
            assertThatThrownBy(() -> put(bad, new byte[1])).as(bad).isInstanceOf(InvalidKeyException.class)
                    .hasMessageContaining("invalid object key");
            assertThatThrownBy(() -> store.get(bad)).as(bad).isInstanceOf(InvalidKeyException.class);
            assertThatThrownBy(() -> store.delete(bad)).as(bad).isInstanceOf(InvalidKeyException.class);
        }
    }

    @Test
    void unicodeAndSpacesInKeysWork() throws IOException {
        byte[] data = randomBytes(10);
        put("users/zoë/Photos 2024/été ☀.jpg", data);
        assertThat(read("users/zoë/Photos 2024/été ☀.jpg")).isEqualTo(data);
        assertThat(store.list("users/zoë/", null, 5).objects()).extracting(ObjectInfo::key)
                .containsExactly("users/zoë/Photos 2024/été ☀.jpg");
    }
}
