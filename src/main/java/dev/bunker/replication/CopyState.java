package dev.bunker.replication;

import java.util.Locale;

/** The state of one copy of an object on one store (column {@code copies.state}). */
public enum CopyState {
    PENDING, VERIFIED, MISSING, CORRUPT, FAILED;

    public static CopyState of(String column) {
        return valueOf(column.toUpperCase(Locale.ROOT));
    }

    /** As stored and shown: lower case. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
