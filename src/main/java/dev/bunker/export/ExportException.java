package dev.bunker.export;

/** An export that cannot be made as asked; {@link #reason} lets the CLI and the API choose the exit code or status. */
public final class ExportException extends RuntimeException {
    public enum Reason {
        /** The request itself is wrong (a bad name, prefix, key, destination or option): exit 2, HTTP 400. */
        INVALID,
        /** No such subscription or delivery: exit 2, HTTP 404. */
        NOT_FOUND,
        /** It clashes with what exists (a name taken, another run of the same export going on, a file at the archive's name): exit 2, HTTP 409. */
        CONFLICT
    }

    private final Reason reason;

    public ExportException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
