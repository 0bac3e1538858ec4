package dev.bunker.store;

import java.io.InputStream;

/**
 * A write made by {@link Store#stage}: its bytes are written and hashed. In a store that defers
 * durability (group commit) they are neither durable nor visible until {@link Store#publish} makes a
 * whole batch of such writes durable together; a store that cannot defer writes at once and returns
 * the write already published.
 */
public interface Staged {
    String store();

    String key();

    /** Size and SHA-256 of every byte written (for a published write: the put's result). */
    PutResult written();

    /** True when the write is already durable and visible, as a put's is. */
    boolean published();

    /** Reads the staged bytes back, to verify them before they are published. */
    InputStream open();

    /** Drops a write that will not be published (it failed verification, or its job was lost); a no-op once published. */
    void discard();

    /** A write a store made at once, with no staging. */
    record Done(String store, String key, PutResult written) implements Staged {
        @Override
        public boolean published() { return true; }

        @Override
        public InputStream open() {
            throw new IllegalStateException("the write of " + ObjectKeys.quote(key) + " to store '" + store + "' is already published");
        }

        @Override
        public void discard() {}
    }
}
