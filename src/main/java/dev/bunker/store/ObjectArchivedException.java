package dev.bunker.store;

/** The object is in an archival storage class (S3 GLACIER, DEEP_ARCHIVE): it cannot be read before a restore request that takes hours. */
public class ObjectArchivedException extends StoreUnavailableException {
    public ObjectArchivedException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }
}
