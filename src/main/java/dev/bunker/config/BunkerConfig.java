package dev.bunker.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The validated configuration of one Bunker process. Built only by {@link ConfigLoader}, so every
 * instance has passed validation: store names resolve, durations parse, required fields exist.
 *
 * @param source where it came from: a file path, or "built-in defaults"
 */
public record BunkerConfig(
        String source,
        Path dataDir,
        HostPort listen,
        DatabaseConfig database,
        Map<String, StoreConfig> stores,
        ReplicationConfig replication,
        ApiConfig api) {

    public StoreConfig store(String name) {
        StoreConfig s = stores.get(name);
        if (s == null) throw new IllegalArgumentException("no store named '" + name + "'; configured stores: " + stores.keySet());
        return s;
    }

    /** Where Bunker talks to PostgreSQL; {@code url == null} means the embedded server under the data dir. */
    public record DatabaseConfig(String url, String user, String password, int poolSize) {
        public boolean embedded() { return url == null; }
    }

    /** Which store apps write to and which stores receive copies. */
    public record ReplicationConfig(String primary, List<String> targets, int workers) {}

    /** API tokens by name; only SHA-256 hashes of the tokens are configured. */
    public record ApiConfig(Map<String, TokenConfig> tokens) {}

    public record TokenConfig(String name, TokenScope scope, String sha256) {}

    /** What an API token may do; each scope includes the ones before it. */
    public enum TokenScope {
        READ, WRITE, ADMIN;

        public boolean allows(TokenScope needed) { return ordinal() >= needed.ordinal(); }
    }
}
