package dev.bunker.pitr;

import java.io.IOException;

/**
 * A point-in-time restore that cannot be done: {@code callersFault} when what was asked cannot be (a target outside the
 * restorable window, a target directory in use: the caller's to correct), otherwise the stored WAL or backups are not
 * enough (a gap, a corrupt chunk).
 */
public class PitrException extends IOException {
    private final boolean callersFault;

    /** Also for a MariaDB source's restore to a time (its binary log), refused the same way. */
    public PitrException(String message, boolean callersFault) {
        super(message);
        this.callersFault = callersFault;
    }

    PitrException(String message) {
        this(message, false);
    }

    public boolean callersFault() { return callersFault; }

    /** Not now: what was asked may succeed when tried again (a push while others are being stored, a source that did not answer). */
    public static final class Unavailable extends PitrException {
        Unavailable(String message, Throwable cause) {
            super(message, false);
            if (cause != null) initCause(cause);
        }
    }
}
