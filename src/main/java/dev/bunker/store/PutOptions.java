package dev.bunker.store;

/**
 * How to write one object.
 *
 * @param size the exact length if known (a put that receives a different number of bytes fails), or -1
 * @param lock the Object Lock to apply with the write, or null; only {@link LockableStore}s accept one
 * @param precondition checked right before the object becomes visible (the rename, the single PUT, the
 *                     multipart completion); if it throws, the put fails and leaves nothing visible. Null: none
 * @param sha256 the SHA-256 (hex) the bytes must have, or null: a put that receives other bytes fails before the
 *               object becomes visible, so a lock sent with the write never keeps wrong bytes
 */
public record PutOptions(long size, LockState lock, Runnable precondition, String sha256) {
    public PutOptions(long size, LockState lock) {
        this(size, lock, null, null);
    }

    public static PutOptions ofSize(long size) { return new PutOptions(size, null); }

    public static PutOptions unknownSize() { return new PutOptions(-1, null); }

    public PutOptions withLock(LockState lock) { return new PutOptions(size, lock, precondition, sha256); }

    public PutOptions withPrecondition(Runnable check) { return new PutOptions(size, lock, check, sha256); }

    public PutOptions withSha256(String hex) { return new PutOptions(size, lock, precondition, hex); }

    /** Runs the precondition, if there is one. */
    void checkPrecondition() {
        if (precondition != null) precondition.run();
    }

    /** Fails the write of {@code key} to {@code store} when the whole input ({@code size} bytes) is not the length expected. */
    void checkSize(String store, String key, long size) {
        if (this.size >= 0 && size != this.size) {
            throw new StoreException(store, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + store
                    + "': expected " + this.size + " bytes but the input ended after " + size);
        }
    }

    /** Fails the write when the whole input is not what was expected: its length, then its SHA-256 (hex). */
    void checkWhole(String store, String key, long size, String sha256Hex) {
        checkSize(store, key, size);
        if (sha256 != null && !sha256.equals(sha256Hex)) {
            throw new StoreException(store, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + store
                    + "': the bytes received have SHA-256 " + sha256Hex + ", expected " + sha256 + "; nothing was made visible");
        }
    }
}
