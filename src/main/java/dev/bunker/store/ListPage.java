package dev.bunker.store;

import java.util.List;

/** One page of a listing; pass {@code nextStartAfter} to get the next page, null when there is none. */
public record ListPage(List<ObjectInfo> objects, String nextStartAfter) {
    public boolean hasMore() { return nextStartAfter != null; }
}
