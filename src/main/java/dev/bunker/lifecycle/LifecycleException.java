package dev.bunker.lifecycle;

/** A lifecycle request that does not fit the object's state (HTTP 404 or 409); the message says what state it is in. */
public final class LifecycleException extends RuntimeException {
    private final int status;

    LifecycleException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() { return status; }
}
