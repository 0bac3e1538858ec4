package dev.bunker.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A restore could not write what it read to this machine's disk (full, read-only, over quota): the fault is here, not in
 * the backup copy, so no other store is tried and the copy is not called corrupt.
 */
public final class LocalWriteException extends IOException {
    private static final java.util.regex.Pattern LOCAL_FAULT = java.util.regex.Pattern.compile(
            "Errcode: (28|30|122)\\b|No space left on device|Read-only file system|Disk quota exceeded");

    public LocalWriteException(Path where, IOException cause) {
        super("unable to write " + where + " on this machine: " + cause.getMessage(), cause);
    }

    /** Whether a tool that writes files here (mbstream) failed for this machine's disk: full, read-only or over quota. */
    static boolean toldByTool(String toolMessage) {
        return toolMessage != null && LOCAL_FAULT.matcher(toolMessage).find();
    }
}
