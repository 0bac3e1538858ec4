package dev.bunker.testing;

import dev.bunker.store.ForwardingStore;
import dev.bunker.store.Store;

/** The real store under Bunker's wrappers (guard, metrics, test faults): for tests that damage a copy behind Bunker's back. */
public final class Unwrapped {
    private Unwrapped() {}

    public static Store of(Store store) {
        Store s = store;
        while (true) {
            if (s instanceof ForwardingStore f) s = f.inner();
            else if (s instanceof FaultyStore f) s = f.real();
            else return s;
        }
    }
}
