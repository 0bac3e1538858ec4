package dev.bunker.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/** One configured object store. */
public sealed interface StoreConfig permits StoreConfig.Local, StoreConfig.S3 {
    String name();

    Tier tier();

    /** The Object Lock every copy on this store gets, or null when the store keeps no lock. */
    LockConfig lock();

    enum Tier { HOT, COLD }

    /** COMPLIANCE retention of {@code period} plus a legal hold; governance mode is refused because a privileged credential can lift it. */
    record LockConfig(Duration period) {}

    record Local(String name, Tier tier, LockConfig lock, Path path) implements StoreConfig {}

    record S3(String name, Tier tier, LockConfig lock,
              URI endpoint, String region, String bucket, String prefix, boolean pathStyle,
              String accessKey, String secretKey, String storageClass,
              long partSize, int maxConnections) implements StoreConfig {}
}
