package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A live listing over a real local store: every object, however the store pages. */
@Timeout(30)
class FullListingTest {
    @TempDir Path dir;

    @Test
    void anEmptyPageThatSaysThereIsMoreIsNotTheEnd() {
        Store real = new LocalStore("local", dir, Clock.systemUTC());
        for (int i = 0; i < 5; i++) real.put("k" + i, new ByteArrayInputStream(new byte[] {(byte) i}), PutOptions.ofSize(1));
        // A store whose every other page comes back empty but with a place to go on from (as servers may, e.g. when
        // everything on a page was filtered out).
        Store gappy = new ForwardingStore(real) {
            int calls;

            @Override
            public ListPage list(String prefix, String startAfter, int limit) {
                if (calls++ % 2 == 0) return new ListPage(List.of(), startAfter == null ? "" : startAfter);
                return super.list(prefix, startAfter == null || startAfter.isEmpty() ? null : startAfter, 2);
            }
        };
        List<String> keys = new ArrayList<>();
        try (FullListing listing = FullListing.live(gappy, Instant.now())) {
            for (List<ObjectInfo> page = listing.next(2); !page.isEmpty(); page = listing.next(2)) page.forEach(o -> keys.add(o.key()));
        }
        assertThat(keys).containsExactly("k0", "k1", "k2", "k3", "k4");
    }
}
