package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A local store's full listing for reconcile: one pass in the file system's order, the same objects as its paged listing. */
@Timeout(60)
class LocalWalkTest {
    @TempDir Path dir;

    private static Map<String, Long> all(FullListing listing, int page) {
        Map<String, Long> out = new HashMap<>();
        try (listing) {
            for (List<ObjectInfo> objects = listing.next(page); !objects.isEmpty(); objects = listing.next(page)) {
                for (ObjectInfo o : objects) assertThat(out.put(o.key(), o.size())).as("listed once: %s", o.key()).isNull();
                assertThat(objects.size()).isLessThanOrEqualTo(page);
            }
        }
        return out;
    }

    private static Map<String, Long> paged(Store store) {
        Map<String, Long> out = new HashMap<>();
        String after = null;
        do {
            ListPage p = store.list("", after, 100);
            for (ObjectInfo o : p.objects()) out.put(o.key(), o.size());
            after = p.nextStartAfter();
        } while (after != null);
        return out;
    }

    @Test
    void theWalkListsExactlyWhatThePagedListingListsAFlatFolderAndADeepTreeAlike() {
        LocalStore store = new LocalStore("local", dir, MutableClock.atNow());
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 2_500; i++) keys.add("flat/" + i + ".jpg"); // one folder larger than a page
        for (int i = 0; i < 300; i++) keys.add("users/" + (i % 7) + "/albums/" + (i % 3) + "/" + i);
        keys.addAll(List.of("top", "a b/ü é", "a b/x/y/z/deep", ".bunker/backups/x"));
        for (String k : keys) {
            byte[] data = k.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            store.put(k, new ByteArrayInputStream(data), PutOptions.ofSize(data.length));
        }
        Map<String, Long> walked = all(store.fullListing(Instant.now()), 1000);
        assertThat(walked).hasSize(keys.size()).isEqualTo(paged(store));
        assertThat(walked.get("a b/ü é")).isEqualTo("a b/ü é".getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        // the wrappers every store is opened in hand the walk through
        assertThat(all(new GuardedStore(new MeteredStore(store, new io.micrometer.core.instrument.simple.SimpleMeterRegistry())).fullListing(Instant.now()), 7))
                .isEqualTo(walked);
    }

    @Test
    void anEmptyStoreAndAStoreWithoutItsFolderListNothingAsThePagedListingDoes() throws Exception {
        LocalStore store = new LocalStore("local", dir, MutableClock.atNow());
        assertThat(all(store.fullListing(Instant.now()), 10)).isEmpty();
        store.put("a/b", new ByteArrayInputStream(new byte[] {1}), PutOptions.ofSize(1));
        Files.move(dir.resolve("objects"), dir.resolve("moved"));
        assertThat(all(store.fullListing(Instant.now()), 10)).isEqualTo(paged(store)).hasSize(0);
    }
}
