package dev.bunker.store;

/**
 * What a put wrote.
 *
 * @param sha256 hex SHA-256 of every byte written, computed while streaming
 * @param storeChecksum the checksum the store itself confirmed for the object, as {@link ObjectInfo#storeChecksum()}
 *                      will report it later; null when the store confirmed none (then only reading back proves the copy)
 * @param versionId the version the put created, in a store that keeps versions; null otherwise (reads get the current one)
 */
public record PutResult(long size, String sha256, String storeChecksum, String versionId) {
    public PutResult(long size, String sha256, String storeChecksum) {
        this(size, sha256, storeChecksum, null);
    }
}
