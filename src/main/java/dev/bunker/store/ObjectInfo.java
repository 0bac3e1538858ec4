package dev.bunker.store;

import java.time.Instant;

/**
 * Metadata of one stored object (its current version): {@code storeChecksum} is the store's own
 * checksum, null where it keeps none; {@code versionId} is null in stores without versions.
 */
public record ObjectInfo(String key, long size, Instant lastModified, String storeChecksum, String versionId) {
    public ObjectInfo(String key, long size, Instant lastModified, String storeChecksum) {
        this(key, size, lastModified, storeChecksum, null);
    }
}
