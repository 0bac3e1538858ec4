package dev.bunker.scrub;

/** A clone that cannot be made as asked (a bad scrub file, an uncovered personal column, a rule the column cannot take). */
public final class ScrubException extends RuntimeException {
    public ScrubException(String message) {
        super(message);
    }
}
