package dev.bunker.store;

/**
 * How to write one object.
 *
 * @param size the exact length if known (a put that receives a different number of bytes fails), or -1
 * @param lock the Object Lock to apply with the write, or null; only {@link LockableStore}s accept one
 */
public record PutOptions(long size, LockState lock) {
    public static PutOptions ofSize(long size) { return new PutOptions(size, null); }

    public static PutOptions unknownSize() { return new PutOptions(-1, null); }

    public PutOptions withLock(LockState lock) { return new PutOptions(size, lock); }
}
