package dev.bunker.store;

import java.time.Instant;
import java.util.List;

/**
 * Every object of a store, a page at a time, as of an instant: what reconcile compares with the ledger. A live
 * listing pages the store itself; an inventory report is a snapshot taken earlier, so objects written or removed
 * after {@link #asOf} may be absent from it or still in it.
 */
public interface FullListing extends AutoCloseable {
    /** What {@link #describe} says of a live listing. */
    String LIVE = "live listing";

    /** Objects the store held before this instant, and still holds, are in the listing. */
    Instant asOf();

    /** True when the store itself is being listed now (not a report of an earlier listing). */
    boolean live();

    /** What is listed, for progress lines and errors: "live listing" or the report's name. */
    String describe();

    /** The next objects (at most {@code max}, in no particular order across calls); empty only when the listing is done. */
    List<ObjectInfo> next(int max);

    @Override
    default void close() {}

    /** The store's own listing, paged in key order from the start; {@code now} is when it starts. */
    static FullListing live(Store store, Instant now) {
        return new FullListing() {
            private String after;
            private boolean done;

            @Override public Instant asOf() { return now; }

            @Override public boolean live() { return true; }

            @Override public String describe() { return LIVE; }

            @Override
            public List<ObjectInfo> next(int max) {
                while (!done) { // an empty page that says there is more is not the end
                    ListPage page = store.list("", after, max);
                    after = page.nextStartAfter();
                    done = after == null;
                    if (!page.objects().isEmpty()) return page.objects();
                }
                return List.of();
            }
        };
    }
}
