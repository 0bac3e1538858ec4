package dev.bunker.clone;

import java.io.IOException;

/**
 * A clone that cannot be made: {@code callersFault} when what was asked cannot be done as asked (a scrub file naming an
 * unknown column or rule, a personal-looking column left uncovered, a target that exists without --replace: the caller's
 * to correct), otherwise the work failed (a restore step, a survivor found by the verification).
 */
public class CloneException extends IOException {
    private final boolean callersFault;

    public CloneException(String message, boolean callersFault) {
        super(message);
        this.callersFault = callersFault;
    }

    public boolean callersFault() { return callersFault; }
}
