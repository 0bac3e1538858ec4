package dev.bunker.store;

/** The store cannot keep Object Lock (not configured, or the server silently dropped it). */
public class LockNotSupportedException extends StoreException {
    public LockNotSupportedException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public LockNotSupportedException(String store, String key, String message) {
        super(store, key, message, null);
    }
}
