package dev.bunker.store;

/** Refused because the object is under retention or legal hold (or the change would shorten its retention). */
public class ObjectLockedException extends StoreException {
    public ObjectLockedException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public ObjectLockedException(String store, String key, String message) {
        super(store, key, message, null);
    }
}
