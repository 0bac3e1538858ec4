package dev.bunker.web;

/** The request itself is wrong (HTTP 400); the message says what to send instead. */
public final class BadRequestException extends RuntimeException {
    public BadRequestException(String message) {
        super(message);
    }
}
