package dev.bunker.store;

/**
 * One staged write to make durable and visible with {@link Store#publish}, and the Object Lock it gets
 * as it becomes visible (null: none); {@code result} or {@code error} says how it went.
 */
public record Publication(Staged staged, LockState lock) {
    /** How one publication went: the write's result, or the error it failed with (nothing made visible then). */
    public record Outcome(Publication publication, PutResult result, RuntimeException error) {
        public boolean ok() { return error == null; }
    }
}
