package dev.bunker.store;

/**
 * How to write one object.
 *
 * @param size the exact length if known (a put that receives a different number of bytes fails), or -1
 * @param lock the Object Lock to apply with the write, or null; only {@link LockableStore}s accept one
 * @param precondition checked right before the object becomes visible (the rename, the single PUT, the
 *                     multipart completion); if it throws, the put fails and leaves nothing visible. Null: none
 */
public record PutOptions(long size, LockState lock, Runnable precondition) {
    public PutOptions(long size, LockState lock) {
        this(size, lock, null);
    }

    public static PutOptions ofSize(long size) { return new PutOptions(size, null); }

    public static PutOptions unknownSize() { return new PutOptions(-1, null); }

    public PutOptions withLock(LockState lock) { return new PutOptions(size, lock, precondition); }

    public PutOptions withPrecondition(Runnable check) { return new PutOptions(size, lock, check); }

    /** Runs the precondition, if there is one. */
    void checkPrecondition() {
        if (precondition != null) precondition.run();
    }
}
