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

    /** True when copies here sit in an archival storage class (S3 GLACIER, DEEP_ARCHIVE) and cannot be read without a restore. */
    default boolean archival() {
        return this instanceof S3 s3 && s3.storageClass() != null
                && (s3.storageClass().equals("GLACIER") || s3.storageClass().equals("DEEP_ARCHIVE"));
    }

    enum Tier { HOT, COLD }

    /** COMPLIANCE retention of {@code period} plus a legal hold; governance mode is refused because a privileged credential can lift it. */
    record LockConfig(Duration period) {}

    record Local(String name, Tier tier, LockConfig lock, Path path) implements StoreConfig {}

    /**
     * An S3 bucket. {@code accessKey}/{@code secretKey} are used for everything but deleting;
     * {@code cleanupAccessKey}/{@code cleanupSecretKey}, if set, only by the cleanup job's deletes, so
     * the everyday credential can be one that cannot delete at all.
     */
    record S3(String name, Tier tier, LockConfig lock,
              URI endpoint, String region, String bucket, String prefix, boolean pathStyle,
              String accessKey, String secretKey, String storageClass,
              long partSize, int maxConnections, String cleanupAccessKey, String cleanupSecretKey,
              Inventory inventory) implements StoreConfig {
        public S3(String name, Tier tier, LockConfig lock, URI endpoint, String region, String bucket, String prefix, boolean pathStyle,
                  String accessKey, String secretKey, String storageClass, long partSize, int maxConnections) {
            this(name, tier, lock, endpoint, region, bucket, prefix, pathStyle, accessKey, secretKey, storageClass, partSize, maxConnections,
                    null, null, null);
        }

        public S3 withInventory(Inventory inventory) {
            return new S3(name, tier, lock, endpoint, region, bucket, prefix, pathStyle, accessKey, secretKey, storageClass, partSize,
                    maxConnections, cleanupAccessKey, cleanupSecretKey, inventory);
        }
    }

    /**
     * Where the bucket's S3 Inventory reports land (CSV), for reconcile to read instead of listing a large bucket:
     * {@code prefix} is the reports' folder up to and including the configuration's ID
     * ({@code destination-prefix/source-bucket/config-ID/}); a report older than {@code maxAge} is refused.
     */
    record Inventory(String bucket, String prefix, Duration maxAge) {}
}
