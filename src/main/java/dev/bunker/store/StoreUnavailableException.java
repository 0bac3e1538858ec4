package dev.bunker.store;

/** The store did not answer or answered with a server error; worth retrying later. */
public class StoreUnavailableException extends StoreException {
    public StoreUnavailableException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public StoreUnavailableException(String store, String key, String message) {
        super(store, key, message, null);
    }
}
