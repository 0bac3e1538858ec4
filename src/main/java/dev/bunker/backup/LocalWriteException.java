package dev.bunker.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A restore could not write what it read to this machine's disk (full, read-only, over quota): the fault is here, not in
 * the backup copy, so no other store is tried and the copy is not called corrupt.
 */
public final class LocalWriteException extends IOException {
    public LocalWriteException(Path where, IOException cause) {
        super("unable to write " + where + " on this machine: " + cause.getMessage(), cause);
    }
}
