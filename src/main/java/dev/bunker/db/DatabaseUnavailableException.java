package dev.bunker.db;

/** Bunker's database could not be reached, logged into or migrated; the message says which and how to fix it. */
public final class DatabaseUnavailableException extends RuntimeException {
    public DatabaseUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
