package dev.bunker.store;

/** The key cannot name an object (empty, too long, '..' segments, control characters...). */
public class InvalidKeyException extends StoreException {
    public InvalidKeyException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public InvalidKeyException(String store, String key, String message) {
        super(store, key, message, null);
    }
}
