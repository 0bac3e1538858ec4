package dev.bunker.store;

/** Refused because the object is under retention or legal hold (or the change would shorten its retention). */
public class ObjectLockedException extends StoreException {
    public ObjectLockedException(String store, String key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    public ObjectLockedException(String store, String key, String message) {
        super(store, key, message, null);
    }

    /** Throws unless {@code state} has ended by {@code now}: "unable to ACTION 'KEY' in store 'NAME': it is under LOCK (...)". */
    static void refuseWhileProtected(String store, String key, String action, LockState state, java.time.Instant now) {
        if (state.protects(now)) {
            throw new ObjectLockedException(store, key, "unable to " + action + " " + ObjectKeys.quote(key) + " in store '" + store
                    + "': it is under " + state.describe() + " (COMPLIANCE mode: nobody can " + action + " it before then)");
        }
    }
}
