package dev.bunker.store;

/**
 * What a put wrote.
 *
 * @param sha256 hex SHA-256 of every byte written, computed while streaming
 * @param storeChecksum the checksum the store itself keeps for the object, as {@link ObjectInfo#storeChecksum()}
 *                      will report it later (null when the store keeps none); compare the two to verify a copy
 */
public record PutResult(long size, String sha256, String storeChecksum) {}
