package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Folders too large to hold are streamed per page: the pages are the same as when every folder is sorted whole. */
@Timeout(60)
class LocalListingTest {
    @TempDir Path dir;

    /** Every page of a listing from {@code startAfter}, as "key size" lines, with the page breaks marked. */
    private static List<String> pages(LocalListing listing, String prefix, String startAfter, int limit) throws Exception {
        List<String> out = new ArrayList<>();
        String after = startAfter;
        do {
            ListPage p = listing.list(prefix, after, limit);
            for (ObjectInfo o : p.objects()) out.add(o.key() + " " + o.size());
            out.add("-- next after " + p.nextStartAfter());
            after = p.nextStartAfter();
        } while (after != null);
        return out;
    }

    @Test
    void aFolderTooLargeToSortWholeIsListedPageByPageInTheSameKeyOrder() throws Exception {
        LocalStore store = new LocalStore("local", dir, MutableClock.atNow());
        Random random = new Random(5);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 400; i++) keys.add("flat/r" + Integer.toString(random.nextInt(100_000), 36)); // a large flat folder
        for (int i = 0; i < 60; i++) keys.add("flat/" + (char) ('a' + i % 5) + "/" + i); // folders among its files
        keys.addAll(List.of("flat/a0", "flat/b-", "flat/b/", "fla", "flat-x", "flat/zz/empty-sibling", "top"));
        for (String k : keys) {
            if (k.endsWith("/")) continue;
            store.put(k, new ByteArrayInputStream(new byte[k.length()]), PutOptions.ofSize(k.length()));
        }
        Path objects = dir.resolve("objects");
        LocalListing sorted = new LocalListing(objects);
        LocalListing streamed = new LocalListing(objects, 10); // every folder of more than 10 entries is streamed
        for (String prefix : List.of("", "flat/", "flat/a", "flat/b/", "fl", "flat/zz/", "nothing/")) {
            for (String startAfter : new String[] {null, "flat/", "flat/a", "flat/a/3", "flat/b", "flat/m", "top"}) {
                for (int limit : new int[] {4, 100}) {
                    assertThat(pages(streamed, prefix, startAfter, limit)).as("prefix %s after %s limit %d", prefix, startAfter, limit)
                            .isEqualTo(pages(sorted, prefix, startAfter, limit));
                }
            }
        }
        List<String> all = pages(sorted, "", null, 1000);
        assertThat(all).hasSizeGreaterThan(400); // the comparisons above were over the whole store, not an empty one
    }
}
