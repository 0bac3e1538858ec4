package dev.bunker.store;

import java.time.Instant;

/** Metadata of one stored object; {@code storeChecksum} is the store's own checksum, null where it keeps none. */
public record ObjectInfo(String key, long size, Instant lastModified, String storeChecksum) {}
