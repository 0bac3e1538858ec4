package dev.bunker.store;

/** A store operation that failed; the message says which store, which key and why. */
public class StoreException extends RuntimeException {
    private final String store;
    private final String key;

    public StoreException(String store, String key, String message, Throwable cause) {
        super(message, cause);
        this.store = store;
        this.key = key;
    }

    public StoreException(String store, String key, String message) {
        this(store, key, message, null);
    }

    public String store() { return store; }

    public String key() { return key; }
}
