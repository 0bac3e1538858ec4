package dev.bunker.lifecycle;

/** A lifecycle request that cannot be done: the object does not exist, or its state does not allow it. */
public final class LifecycleException extends RuntimeException {
    /** Why: no such object, or the object's state (or what is due) conflicts with the request. */
    public enum Reason { NO_SUCH_OBJECT, CONFLICT }

    private final Reason reason;

    LifecycleException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
