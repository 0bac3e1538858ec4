package dev.bunker.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.bunker.config.BunkerConfig.ApiConfig;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.Batching;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.config.BunkerConfig.LifecycleConfig;
import dev.bunker.config.BunkerConfig.Policy;
import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.StoreConfig.LockConfig;
import dev.bunker.config.StoreConfig.Tier;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code bunker.yaml} (or the built-in defaults), substitutes {@code ${ENV}} references and
 * validates everything before any part of Bunker starts.
 */
public final class ConfigLoader {
    /** A config's {@link BunkerConfig#source()} when no file was read. */
    public static final String BUILT_IN = "built-in defaults";

    public static final String DEFAULT_FILE = "bunker.yaml";
    public static final Duration DEFAULT_LOCK_PERIOD = Duration.ofDays(21);
    private static final Pattern STORE_NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Set<String> STORAGE_CLASSES = Set.of("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
            "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE");

    /** Command-line values that win over the file; null fields leave the file's value. */
    public record Overrides(Path dataDir, String listen) {
        public static final Overrides NONE = new Overrides(null, null);
    }

    private ConfigLoader() {}

    /** The file to use: the one given, else ./bunker.yaml if it exists, else none (built-in defaults). */
    public static Path locate(Path explicit) {
        if (explicit != null) return explicit;
        Path dflt = Path.of(DEFAULT_FILE);
        return Files.isRegularFile(dflt) ? dflt : null;
    }

    public static BunkerConfig load(Path file, Overrides overrides) {
        return load(file, overrides, System::getenv);
    }

    public static BunkerConfig load(Path file, Overrides overrides, Function<String, String> env) {
        JsonNode root = MissingNode.getInstance();
        String source = BUILT_IN;
        Path baseDir = Path.of("").toAbsolutePath();
        if (file != null) {
            source = file.toString();
            baseDir = file.toAbsolutePath().getParent();
            try {
                root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
            } catch (NoSuchFileException e) {
                throw new ConfigException(source, null, "file not found; pass an existing file with --config, or omit it to use the built-in defaults");
            } catch (JsonProcessingException e) {
                String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
                throw new ConfigException(source, null, "not valid YAML" + where + ": " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new ConfigException(source, null, "cannot read file: " + e.getMessage());
            }
            if (root == null) root = MissingNode.getInstance();
        }
        ConfigNode top = new ConfigNode(root, "", source, baseDir, env);
        return read(top, source, overrides);
    }

    private static BunkerConfig read(ConfigNode top, String source, Overrides overrides) {
        Path cwd = Path.of("").toAbsolutePath();
        Path fileDataDir = top.path("data-dir", cwd.resolve("bunker-data").normalize());
        Path dataDir = overrides.dataDir() != null ? cwd.resolve(overrides.dataDir()).normalize() : fileDataDir;

        HostPort listen;
        String fileListen = top.string("listen", "127.0.0.1:8080");
        String listenText = overrides.listen() != null ? overrides.listen() : fileListen;
        try {
            listen = HostPort.parse(listenText);
        } catch (IllegalArgumentException e) {
            throw overrides.listen() != null ? new ConfigException("--listen", null, e.getMessage()) : top.failAt("listen", e.getMessage());
        }

        DatabaseConfig database = database(top.section("database"));
        Map<String, StoreConfig> stores = stores(top, dataDir);
        ReplicationConfig replication = replication(top.section("replication"), stores);
        LifecycleConfig lifecycle = lifecycle(top.section("lifecycle"));
        BackupsConfig backups = JobSections.backups(top.section("backups"), stores);
        ApiConfig api = api(top.section("api"), backups);
        DrillsConfig drills = JobSections.drills(top.section("drills"), backups);
        AlertsConfig alerts = JobSections.alerts(top.section("alerts"));
        BunkerConfig.DashboardConfig dashboard = JobSections.dashboard(top.section("dashboard"));
        BunkerConfig.ExportsConfig exports = JobSections.exports(top.section("exports"), stores, replication.primary());
        BunkerConfig.ClonesConfig clones = JobSections.clones(top.section("clones"), backups);
        top.rejectUnknownKeys();
        return new BunkerConfig(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, drills, alerts, dashboard, exports,
                clones);
    }

    private static DatabaseConfig database(ConfigNode n) {
        String url = n.string("url", null);
        if (url != null) {
            if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
                url = "jdbc:postgresql://" + url.substring(url.indexOf("://") + 3);
            }
            if (!url.startsWith("jdbc:postgresql://")) {
                throw n.failAt("url", "\"" + url + "\" is not a PostgreSQL URL; expected jdbc:postgresql://HOST:PORT/DB or postgresql://HOST:PORT/DB, or leave it out to use the embedded server");
            }
        }
        String user = n.string("user", null);
        String password = n.string("password", null);
        int poolSize = n.integer("pool-size", 16, 2, 200);
        n.rejectUnknownKeys();
        return new DatabaseConfig(url, user, password, poolSize);
    }

    private static Map<String, StoreConfig> stores(ConfigNode top, Path dataDir) {
        Map<String, StoreConfig> out = new LinkedHashMap<>();
        if (!top.has("stores")) {
            Path root = dataDir.resolve("stores");
            out.put("primary", new StoreConfig.Local("primary", Tier.HOT, null, root.resolve("primary")));
            out.put("vault", new StoreConfig.Local("vault", Tier.HOT, new LockConfig(DEFAULT_LOCK_PERIOD), root.resolve("vault")));
            out.put("shelter", new StoreConfig.Local("shelter", Tier.COLD, null, root.resolve("shelter")));
            top.section("stores");
            return out;
        }
        Map<String, ConfigNode> sections = top.sections("stores");
        if (sections.isEmpty()) throw top.failAt("stores", "is empty; expected at least one store, e.g. primary: {type: local, path: ./bunker-data/stores/primary}");
        for (Map.Entry<String, ConfigNode> e : sections.entrySet()) {
            String name = e.getKey();
            ConfigNode n = e.getValue();
            if (!STORE_NAME.matcher(name).matches()) {
                throw top.fail(n.path(), "\"" + name + "\" is not a valid store name; expected lower-case letters, digits and '-', starting with a letter, at most 32 characters");
            }
            String type = n.requiredString("type", "the store type: local or s3");
            Tier tier = n.choice("tier", Tier.class, Tier.HOT);
            LockConfig lock = lock(n.section("lock"));
            StoreConfig store = switch (type) {
                case "local" -> new StoreConfig.Local(name, tier, lock, requiredPath(n));
                case "s3" -> s3(n, name, tier, lock);
                default -> throw n.failAt("type", "\"" + type + "\" is not a store type; expected local or s3");
            };
            n.rejectUnknownKeys();
            out.put(name, store);
        }
        return out;
    }

    private static Path requiredPath(ConfigNode n) {
        Path p = n.path("path", null);
        if (p != null) return p;
        throw n.failAt("path", "missing; expected the folder that holds this store's objects, e.g. ./bunker-data/stores/" + n.path().substring(n.path().lastIndexOf('.') + 1));
    }

    private static LockConfig lock(ConfigNode n) {
        if (!n.isPresent()) {
            n.rejectUnknownKeys();
            return null;
        }
        String mode = n.string("mode", "compliance");
        if (!mode.equals("compliance")) {
            throw n.failAt("mode", "\"" + mode + "\" is not supported; expected compliance (governance locks can be lifted by a privileged credential, which defeats the point)");
        }
        Duration period = n.duration("period", DEFAULT_LOCK_PERIOD);
        if (period.isZero()) throw n.failAt("period", "must be longer than 0s");
        n.rejectUnknownKeys();
        return new LockConfig(period);
    }

    private static StoreConfig.S3 s3(ConfigNode n, String name, Tier tier, LockConfig lock) {
        URI endpoint = null;
        String ep = n.string("endpoint", null);
        if (ep != null) {
            try {
                endpoint = URI.create(ep);
            } catch (IllegalArgumentException e) {
                throw n.failAt("endpoint", "\"" + ep + "\" is not a URL; expected e.g. https://s3.eu-central-1.wasabisys.com");
            }
            if (endpoint.getScheme() == null || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https")) || endpoint.getHost() == null) {
                throw n.failAt("endpoint", "\"" + ep + "\" is not an http(s) URL; expected e.g. https://s3.eu-central-1.wasabisys.com");
            }
        }
        String region = n.string("region", "us-east-1");
        String bucket = n.requiredString("bucket", "the bucket name");
        String prefix = n.string("prefix", "");
        if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix = prefix + "/";
        boolean pathStyle = n.bool("path-style", endpoint != null);
        String accessKey = n.string("access-key", null);
        String secretKey = n.string("secret-key", null);
        if ((accessKey == null) != (secretKey == null)) {
            throw n.failAt(accessKey == null ? "access-key" : "secret-key",
                    "missing; set both access-key and secret-key, or neither to use the AWS default credential chain");
        }
        String storageClass = n.string("storage-class", null);
        if (storageClass != null && !STORAGE_CLASSES.contains(storageClass)) {
            throw n.failAt("storage-class", "\"" + storageClass + "\" is not an S3 storage class; expected one of " + new java.util.TreeSet<>(STORAGE_CLASSES));
        }
        long partSize = n.bytes("part-size", 16L << 20, 5L << 20, 1L << 30);
        int maxConnections = n.integer("max-connections", 32, 1, 1000);
        String cleanupAccessKey = n.string("cleanup-access-key", null);
        String cleanupSecretKey = n.string("cleanup-secret-key", null);
        if ((cleanupAccessKey == null) != (cleanupSecretKey == null)) {
            throw n.failAt(cleanupAccessKey == null ? "cleanup-access-key" : "cleanup-secret-key",
                    "missing; set both cleanup-access-key and cleanup-secret-key (the cleanup job's delete credential), or neither");
        }
        return new StoreConfig.S3(name, tier, lock, endpoint, region, bucket, prefix, pathStyle, accessKey, secretKey,
                storageClass, partSize, maxConnections, cleanupAccessKey, cleanupSecretKey, inventory(n.section("inventory"), bucket));
    }

    private static StoreConfig.Inventory inventory(ConfigNode n, String storeBucket) {
        if (!n.isPresent()) {
            n.rejectUnknownKeys();
            return null;
        }
        String bucket = n.string("bucket", storeBucket);
        String prefix = n.requiredString("prefix",
                "the folder of the inventory reports, up to and including the configuration's ID, e.g. inventory/" + storeBucket + "/daily/");
        if (!prefix.endsWith("/")) prefix = prefix + "/";
        Duration maxAge = n.duration("max-age", Duration.ofDays(8));
        if (maxAge.isZero()) throw n.failAt("max-age", "must be longer than 0s");
        n.rejectUnknownKeys();
        return new StoreConfig.Inventory(bucket, prefix, maxAge);
    }

    private static ReplicationConfig replication(ConfigNode n, Map<String, StoreConfig> stores) {
        String primary = n.string("primary", stores.containsKey("primary") ? "primary" : null);
        if (primary == null) throw n.failAt("primary", "missing; expected the name of the store apps write to, one of " + stores.keySet());
        if (!stores.containsKey(primary)) throw n.failAt("primary", "unknown store \"" + primary + "\"; expected one of " + stores.keySet());
        List<String> others = new ArrayList<>(stores.keySet());
        others.remove(primary);
        List<String> targets = targets(n, "targets", n.strings("targets", others), stores, primary);
        List<Policy> policies = new ArrayList<>();
        ConfigNode policyList = n.section("policies");
        for (String name : policyList.keys()) {
            ConfigNode p = policyList.section(name);
            String prefix = p.requiredString("prefix", "the key prefix this policy applies to, e.g. free/");
            policies.add(new Policy(name, prefix, targets(p, "targets", p.strings("targets", List.of()), stores, primary)));
            p.rejectUnknownKeys();
        }
        int workers = n.integer("workers", 8, 1, 256);
        Duration lease = n.duration("lease", Duration.ofSeconds(30));
        if (lease.compareTo(Duration.ofSeconds(3)) < 0) throw n.failAt("lease", "must be at least 3s (workers renew it every third of it)");
        Duration poll = n.duration("poll", Duration.ofSeconds(1));
        int maxAttempts = n.integer("max-attempts", 8, 1, 1000);
        Duration retryInitial = n.duration("retry-initial", Duration.ofSeconds(5));
        Duration retryMax = n.duration("retry-max", Duration.ofMinutes(30));
        int breakerFailures = n.integer("breaker-failures", 5, 1, 10_000);
        Duration breakerCooldown = n.duration("breaker-cooldown", Duration.ofSeconds(60));
        Batching defaults = Batching.defaultsFor(workers);
        ConfigNode b = n.section("batch");
        Batching batching = new Batching(b.integer("claim", defaults.claim(), 1, 256),
                b.integer("commit-copies", defaults.commitCopies(), 1, 10_000), b.duration("commit-wait", defaults.commitWait()));
        if (batching.commitWait().compareTo(Duration.ofSeconds(1)) > 0) {
            throw b.failAt("commit-wait", "must be at most 1s (copies wait that long before they count)");
        }
        b.rejectUnknownKeys();
        n.rejectUnknownKeys();
        return new ReplicationConfig(primary, List.copyOf(targets), List.copyOf(policies), workers, lease, poll, maxAttempts,
                retryInitial, retryMax, breakerFailures, breakerCooldown, batching);
    }

    private static List<String> targets(ConfigNode n, String key, List<String> targets, Map<String, StoreConfig> stores, String primary) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < targets.size(); i++) {
            String t = targets.get(i);
            String field = n.child(key) + "[" + i + "]";
            if (!stores.containsKey(t)) throw n.fail(field, "unknown store \"" + t + "\"; expected one of " + stores.keySet());
            if (t.equals(primary)) throw n.fail(field, "\"" + t + "\" is the primary; targets are the stores that receive copies of it");
            if (!seen.add(t)) throw n.fail(field, "\"" + t + "\" is listed twice");
        }
        return List.copyOf(targets);
    }

    private static LifecycleConfig lifecycle(ConfigNode n) {
        LifecycleConfig d = LifecycleConfig.DEFAULTS;
        Duration trash = n.duration("trash", d.trash());
        Duration cleanupAfter = n.duration("cleanup-after", d.cleanupAfter());
        String brakeText = n.string("brake", "5%");
        double brake;
        try {
            String t = brakeText.trim();
            if (!t.endsWith("%")) throw new NumberFormatException();
            brake = Double.parseDouble(t.substring(0, t.length() - 1)) / 100;
            if (brake <= 0 || brake > 1) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw n.failAt("brake", "\"" + brakeText + "\" is not a share; expected a percentage above 0% and up to 100%, e.g. 5%");
        }
        Duration every = n.duration("every", d.every());
        if (every.isZero()) throw n.failAt("every", "must be longer than 0s");
        n.rejectUnknownKeys();
        return new LifecycleConfig(trash, cleanupAfter, brake, every);
    }

    private static ApiConfig api(ConfigNode n, BackupsConfig backups) {
        Map<String, TokenConfig> tokens = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : n.sections("tokens").entrySet()) {
            ConfigNode t = e.getValue();
            TokenScope scope = t.choice("scope", TokenScope.class, null);
            if (scope == null) throw t.failAt("scope", "missing; expected read, write, admin or wal-push");
            String hash = t.requiredString("sha256", "the SHA-256 of the token in hex, as printed by `bunker token create`").toLowerCase();
            if (!HEX64.matcher(hash).matches()) throw t.failAt("sha256", "expected 64 hex digits, as printed by `bunker token create` (the token itself never goes in the file)");
            String source = t.string("source", null);
            if (scope == TokenScope.WAL_PUSH) {
                if (source == null) throw t.failAt("source", "missing; a wal-push token pushes the WAL of one source: name it (source: app)");
                BunkerConfig.BackupSource s = backups.sources().get(source);
                if (s == null || s.pitr() == null || !s.pitr().archive()) {
                    throw t.failAt("source", "\"" + source + "\" is not a source with pitr: {wal: archive} under backups.sources; a wal-push token "
                            + "serves only such a source" + (backups.sources().isEmpty() ? "" : " (sources: " + backups.sources().keySet() + ")"));
                }
            } else if (source != null) {
                throw t.failAt("source", "applies to scope wal-push only (a " + scope.label() + " token is not tied to a source)");
            }
            t.rejectUnknownKeys();
            tokens.put(e.getKey(), new TokenConfig(e.getKey(), scope, hash, source));
        }
        n.rejectUnknownKeys();
        return new ApiConfig(tokens);
    }
}
