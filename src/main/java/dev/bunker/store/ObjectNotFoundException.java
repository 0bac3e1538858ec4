package dev.bunker.store;

/** The object does not exist in the store. */
public class ObjectNotFoundException extends StoreException {
    public ObjectNotFoundException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public ObjectNotFoundException(String store, String key, String message) {
        super(store, key, message, null);
    }
}
