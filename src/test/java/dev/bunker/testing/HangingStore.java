package dev.bunker.testing;

import dev.bunker.store.ForwardingStore;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Store;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * For crash tests in a child process: a store that, at the {@code nth} put of a key {@code matching}, writes that key to
 * {@code marker} and hangs there, so the parent can SIGKILL the child in the middle of storing something.
 */
public final class HangingStore extends ForwardingStore {
    private final Predicate<String> matching;
    private final int nth;
    private final Path marker;
    private int seen;

    public HangingStore(Store store, Predicate<String> matching, int nth, Path marker) {
        super(store);
        this.matching = matching;
        this.nth = nth;
        this.marker = marker;
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        if (matching.test(key) && ++seen == nth) {
            try {
                Files.writeString(marker, key + "\n");
                Thread.sleep(Long.MAX_VALUE); // killed here
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return super.put(key, data, options);
    }
}
