package dev.bunker.replication;

import java.util.Locale;

/** Where an object is in its life (column {@code objects.state}): live, trashed, then permanently deleted (holds being released, then released). */
public enum ObjectState {
    LIVE, TRASHED, DELETING, DELETED;

    /** Live or in the trash: its copies must still be kept and made. */
    public boolean kept() {
        return this == LIVE || this == TRASHED;
    }

    public static ObjectState of(String column) {
        return valueOf(column.toUpperCase(Locale.ROOT));
    }

    /** As stored and shown: lower case. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
