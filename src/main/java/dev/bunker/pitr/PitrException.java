package dev.bunker.pitr;

import java.io.IOException;

/**
 * A point-in-time restore that cannot be done: {@code outsideWindow} when the target is not in the restorable window (a
 * caller's choice to correct), otherwise the stored WAL or backups are not enough (a gap, a corrupt chunk).
 */
public final class PitrException extends IOException {
    private final boolean outsideWindow;

    PitrException(String message, boolean outsideWindow) {
        super(message);
        this.outsideWindow = outsideWindow;
    }

    PitrException(String message) {
        this(message, false);
    }

    public boolean outsideWindow() { return outsideWindow; }
}
