package dev.bunker.store;

/** A store's inventory report is missing, too old, damaged or not one Bunker can read; the message says which and what to do. */
public final class InventoryException extends StoreException {
    public InventoryException(String store, String message) {
        super(store, null, message);
    }

    public InventoryException(String store, String message, Throwable cause) {
        super(store, null, message, cause);
    }
}
