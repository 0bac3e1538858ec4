package dev.bunker.config;

import java.nio.file.Path;
import java.time.Duration;
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
        ApiConfig api,
        LifecycleConfig lifecycle,
        BackupsConfig backups,
        DrillsConfig drills,
        AlertsConfig alerts,
        DashboardConfig dashboard,
        ExportsConfig exports,
        ClonesConfig clones) {

    /** Without scheduled clones. */
    public BunkerConfig(String source, Path dataDir, HostPort listen, DatabaseConfig database, Map<String, StoreConfig> stores,
                        ReplicationConfig replication, ApiConfig api, LifecycleConfig lifecycle, BackupsConfig backups, DrillsConfig drills,
                        AlertsConfig alerts, DashboardConfig dashboard, ExportsConfig exports) {
        this(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, drills, alerts, dashboard, exports, ClonesConfig.NONE);
    }

    public BunkerConfig(String source, Path dataDir, HostPort listen, DatabaseConfig database, Map<String, StoreConfig> stores,
                        ReplicationConfig replication, ApiConfig api, LifecycleConfig lifecycle, BackupsConfig backups) {
        this(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, DrillsConfig.NONE, AlertsConfig.DEFAULTS);
    }

    /** With the dashboard's defaults. */
    public BunkerConfig(String source, Path dataDir, HostPort listen, DatabaseConfig database, Map<String, StoreConfig> stores,
                        ReplicationConfig replication, ApiConfig api, LifecycleConfig lifecycle, BackupsConfig backups, DrillsConfig drills,
                        AlertsConfig alerts) {
        this(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, drills, alerts, DashboardConfig.DEFAULTS,
                ExportsConfig.NONE);
    }

    /** The same configuration with other backup settings (tests and tools). */
    public BunkerConfig withBackups(BackupsConfig b) {
        return new BunkerConfig(source, dataDir, listen, database, stores, replication, api, lifecycle, b, drills, alerts, dashboard, exports, clones);
    }

    /** The same configuration with other drill and alert settings (tests and tools). */
    public BunkerConfig withDrills(DrillsConfig d, AlertsConfig a) {
        return new BunkerConfig(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, d, a, dashboard, exports, clones);
    }

    /** The same configuration with other dashboard settings (tests). */
    public BunkerConfig withDashboard(DashboardConfig d) {
        return new BunkerConfig(source, dataDir, listen, database, stores, replication, api, lifecycle, backups, drills, alerts, d, exports, clones);
    }

    /**
     * The dashboard served at {@code /}: its charts' figures are sampled every {@code sampleEvery} and kept for
     * {@code history}; a login lasts {@code session}; an alert fires when no recovery audit was recorded for {@code auditEvery}
     * (null: off).
     */
    public record DashboardConfig(Duration sampleEvery, Duration history, Duration session, Duration auditEvery) {
        public static final DashboardConfig DEFAULTS = new DashboardConfig(Duration.ofMinutes(1), Duration.ofDays(30), Duration.ofHours(12),
                Duration.ofDays(31));
    }

    /**
     * Scheduled exports: every {@code every}, {@code serve} delivers what is new for each subscription into
     * {@code to}/NAME/ (a folder, or {@code store:NAME/path}). {@code every} null: off (runs only by {@code bunker export}).
     */
    public record ExportsConfig(Duration every, String to) {
        public static final ExportsConfig NONE = new ExportsConfig(null, null);
    }

    /** Scrubbed development copies {@code serve} keeps fresh ({@code clones: {NAME: {...}}}); none by default. */
    public record ClonesConfig(Map<String, CloneJob> jobs) {
        public static final ClonesConfig NONE = new ClonesConfig(Map.of());
    }

    /**
     * One scheduled clone: every {@code every}, the newest backup of {@code source} cloned into {@code target} (replaced)
     * with {@code scrub}'s rules, decrypted with the key in {@code identity}; {@code password}: the target user's, if any;
     * {@code grantTo}: roles given the use of the scrubbed clone (see {@code CloneDatabase.grantingTo}).
     */
    public record CloneJob(String name, String source, String target, String password, Path scrub, Path identity, Duration every,
                           List<String> grantTo) {
        @Override
        public String toString() { // never the password
            return "CloneJob[" + name + ", source=" + source + ", target=" + Redact.databaseUrl(target) + ", every=" + every + "]";
        }
    }

    public StoreConfig store(String name) {
        StoreConfig s = stores.get(name);
        if (s == null) throw new IllegalArgumentException("no store named '" + name + "'; configured stores: " + stores.keySet());
        return s;
    }

    /** Where Bunker talks to PostgreSQL; {@code url == null} means the embedded server under the data dir. */
    public record DatabaseConfig(String url, String user, String password, int poolSize) {
        public boolean embedded() { return url == null; }
    }

    /**
     * Which store apps write to, which stores receive copies (per key prefix), and how the copy
     * workers claim, retry and give up.
     */
    public record ReplicationConfig(String primary, List<String> targets, List<Policy> policies, int workers,
                                    Duration lease, Duration poll, int maxAttempts, Duration retryInitial, Duration retryMax,
                                    int breakerFailures, Duration breakerCooldown, Batching batching) {
        public ReplicationConfig(String primary, List<String> targets, int workers) {
            this(primary, targets, List.of(), workers, Duration.ofSeconds(30), Duration.ofSeconds(1), 8,
                    Duration.ofSeconds(5), Duration.ofMinutes(30), 5, Duration.ofSeconds(60));
        }

        public ReplicationConfig(String primary, List<String> targets, List<Policy> policies, int workers, Duration lease, Duration poll,
                                 int maxAttempts, Duration retryInitial, Duration retryMax, int breakerFailures, Duration breakerCooldown) {
            this(primary, targets, policies, workers, lease, poll, maxAttempts, retryInitial, retryMax, breakerFailures, breakerCooldown,
                    Batching.defaultsFor(workers));
        }

        /** The stores that must hold a copy of {@code key}: the policy with the longest matching prefix, else the default targets. */
        public List<String> targetsFor(String key) {
            Policy best = null;
            for (Policy p : policies) {
                if (key.startsWith(p.prefix()) && (best == null || p.prefix().length() > best.prefix().length())) best = p;
            }
            return best == null ? targets : best.targets();
        }
    }

    /**
     * How replication batches its work: jobs claimed per round trip to the queue ({@code claim}), and the group
     * commit that makes finished copies durable and records them together: at most {@code commitCopies} copies
     * per batch, and how long the committer may wait for a batch to fill ({@code commitWait}; zero: it takes
     * what arrived while the previous batch committed).
     */
    public record Batching(int claim, int commitCopies, Duration commitWait) {
        /**
         * Up to 10 ms for a batch to fill: a job finished alone waits that long to count, and under load the queue's
         * transactions per job fall (BENCHMARKS.md, "Queue": claim-1 from about 1,500 to 1,800..2,300 jobs/s here).
         */
        public static final Duration DEFAULT_COMMIT_WAIT = Duration.ofMillis(10);

        public static Batching defaultsFor(int workers) {
            return new Batching(Math.min(workers, 32), 256, DEFAULT_COMMIT_WAIT);
        }
    }

    /** A replication policy ("varying SLAs"): keys starting with {@code prefix} are copied to {@code targets}. */
    public record Policy(String name, String prefix, List<String> targets) {}

    /**
     * The deletion lifecycle: how long deleted objects stay restorable in the trash, how long after
     * permanent deletion the cleanup job may purge them, the mass-deletion brake (share of objects or
     * bytes one day's purges may take), and how often the transitions run.
     */
    public record LifecycleConfig(Duration trash, Duration cleanupAfter, double brake, Duration every) {
        public static final LifecycleConfig DEFAULTS = new LifecycleConfig(Duration.ofDays(30), Duration.ofDays(23), 0.05, Duration.ofMinutes(1));
    }

    /**
     * Database backups: which databases, to which stores, encrypted to which age recipients (public
     * keys only), and the kinds with their schedules, retention and Object Lock: dump and snapshot (pg_dump, scheduled)
     * and base (pg_basebackup of the whole cluster, taken on demand; its {@code every} is unused). {@code signers}:
     * public keys whose signed manifests are trusted besides this machine's own signing key;
     * {@code keepNewest}: prune never removes the newest this many of a source and kind.
     */
    public record BackupsConfig(List<String> recipients, List<String> stores, Map<String, BackupSource> sources,
                                BackupKind dump, BackupKind snapshot, Path pgBin, boolean allowSuperuser,
                                List<String> signers, int keepNewest, BackupKind base, Path mariaDbBin) {
        public static final int KEEP_NEWEST = 3;
        public static final BackupKind DEFAULT_BASE = new BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3);

        public BackupsConfig(List<String> recipients, List<String> stores, Map<String, BackupSource> sources, BackupKind dump,
                             BackupKind snapshot, Path pgBin, boolean allowSuperuser, List<String> signers, int keepNewest) {
            this(recipients, stores, sources, dump, snapshot, pgBin, allowSuperuser, signers, keepNewest, DEFAULT_BASE);
        }

        /** MariaDB's client tools found on the PATH. */
        public BackupsConfig(List<String> recipients, List<String> stores, Map<String, BackupSource> sources, BackupKind dump,
                             BackupKind snapshot, Path pgBin, boolean allowSuperuser, List<String> signers, int keepNewest, BackupKind base) {
            this(recipients, stores, sources, dump, snapshot, pgBin, allowSuperuser, signers, keepNewest, base, null);
        }
        public static final BackupsConfig NONE = new BackupsConfig(List.of(), List.of(), Map.of(),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false);

        /** Without extra trusted signers, keeping the newest {@value #KEEP_NEWEST} of each source and kind. */
        public BackupsConfig(List<String> recipients, List<String> stores, Map<String, BackupSource> sources, BackupKind dump,
                             BackupKind snapshot, Path pgBin, boolean allowSuperuser) {
            this(recipients, stores, sources, dump, snapshot, pgBin, allowSuperuser, List.of(), KEEP_NEWEST);
        }

        public boolean enabled() { return !sources.isEmpty(); }

        /**
         * How often {@code serve} takes this kind of backup of {@code source}; null: never (base backups of a PostgreSQL source
         * without pitr, physical backups of a MariaDB source without {@code physical: {every}}).
         */
        public Duration every(String source, String kind) {
            if (!kind(kind).name().equals("base")) return kind(kind).every();
            BackupSource s = sources.get(source);
            if (s == null) return null;
            return s.physicalEvery() != null ? s.physicalEvery() : s.pitr() == null ? null : s.pitr().baseEvery();
        }

        /** The kind as it applies to {@code source}: a source's {@code pitr: {keep, lock}} overrides {@code backups.base}. */
        public BackupKind kind(String source, String name) {
            BackupKind k = kind(name);
            BackupSource s = sources.get(source);
            return k == base && s != null && s.pitr() != null ? s.pitr().applyTo(k) : k;
        }

        public BackupKind kind(String name) {
            return switch (name) {
                case "dump" -> dump;
                case "snapshot" -> snapshot;
                case "base", "physical" -> base; // a MariaDB source's physical backup is its base backup
                default -> throw new IllegalArgumentException("unknown backup kind \"" + name + "\"; expected dump, snapshot, base or physical");
            };
        }
    }

    /**
     * A database to back up: PostgreSQL (a libpq or JDBC URL) or MariaDB/MySQL ({@code mariadb://}, {@code mysql://}), the
     * read-only role or user and its password.
     */
    public record BackupSource(String name, String url, String user, String password, Pitr pitr, Binlog binlog, Duration physicalEvery,
                               boolean allDatabases) {
        public BackupSource(String name, String url, String user, String password, Pitr pitr, Binlog binlog, Duration physicalEvery) {
            this(name, url, user, password, pitr, binlog, physicalEvery, false);
        }

        /** A MariaDB source's server, with its user and password; its database, or null with {@code all-databases: true}. */
        public dev.bunker.mariadb.MariaDbUrl mariaDbUrl() {
            return dev.bunker.mariadb.MariaDbUrl.parse(url, user, password,
                    allDatabases ? dev.bunker.mariadb.MariaDbUrl.Database.NONE : dev.bunker.mariadb.MariaDbUrl.Database.ONE);
        }

        public BackupSource(String name, String url, String user, String password) {
            this(name, url, user, password, null, null, null);
        }

        public BackupSource(String name, String url, String user, String password, Pitr pitr) {
            this(name, url, user, password, pitr, null, null);
        }

        public BackupSource(String name, String url, String user, String password, Pitr pitr, Binlog binlog) {
            this(name, url, user, password, pitr, binlog, null);
        }
    }

    /**
     * Binary log archiving of a MariaDB or MySQL source: {@code serve} streams the server's binary logs into the backup
     * stores, the file being written at least every {@code flushEvery}, for restores to a point in time after a dump;
     * stored binary log older than {@code keep} that no kept dump needs is pruned.
     */
    public record Binlog(Duration flushEvery, Duration keep) {
        public static final Duration DEFAULT_FLUSH_EVERY = Duration.ofSeconds(4);
        public static final Duration DEFAULT_KEEP = Duration.ofDays(7);
    }

    /**
     * Point-in-time recovery of a source: {@code serve} streams its WAL through the physical replication slot {@code slot}
     * into the backup stores, a chunk at least every {@code flushEvery}, and takes a base backup every {@code baseEvery};
     * the chunks are locked and kept as base backups are. With {@code archive}, the source's archive_command pushes each
     * finished segment to {@code serve} instead ({@code slot} and {@code flushEvery} are then null). {@code keep} and
     * {@code lock}: this source's base backups and WAL are kept and locked that long instead of as {@code backups.base}
     * says (null: as it says; a zero lock: none).
     */
    public record Pitr(String slot, Duration flushEvery, Duration baseEvery, boolean archive, Duration keep, Duration lock) {
        public static final Duration DEFAULT_FLUSH_EVERY = Duration.ofSeconds(4);
        public static final Duration DEFAULT_BASE_EVERY = Duration.ofDays(1);

        /** Streamed, with a base backup every day. */
        public Pitr(String slot, Duration flushEvery) {
            this(slot, flushEvery, DEFAULT_BASE_EVERY, false, null, null);
        }

        /** Pushed by the source's archive_command. */
        public static Pitr archived(Duration baseEvery) {
            return new Pitr(null, null, baseEvery, true, null, null);
        }

        /** {@code base} (the {@code backups.base} kind) with this source's own keep and lock, where it sets them. */
        public BackupKind applyTo(BackupKind base) {
            if (keep == null && lock == null) return base;
            Duration l = lock == null ? base.lock() : lock.isZero() ? null : lock;
            return new BackupKind(base.name(), base.every(), keep == null ? base.keep() : keep, l, base.zstdLevel(), base.zstdWorkers());
        }

        /** Whether {@code serve} streams this source's WAL through a slot. */
        public boolean streamed() { return !archive; }

        public static String defaultSlot(String source) {
            return "bunker_" + source.toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        }
    }

    /** One kind of backup: how often, how long it is kept, its COMPLIANCE lock (null: none) and zstd level. */
    /**
     * {@code zstdWorkers}: threads zstd compresses on beside the one that reads the tool's output and encrypts (0: that
     * one thread does it all, as {@code | zstd |} in a shell pipeline does not: there the stages run side by side).
     */
    public record BackupKind(String name, Duration every, Duration keep, Duration lock, int zstdLevel, int zstdWorkers) {
        public static final int DEFAULT_ZSTD_WORKERS = 1;

        public BackupKind(String name, Duration every, Duration keep, Duration lock, int zstdLevel) {
            this(name, every, keep, lock, zstdLevel, DEFAULT_ZSTD_WORKERS);
        }
    }

    /**
     * Restore drills: the database drill restores the newest backup into a throwaway server and checks
     * it (row counts, freshness of {@code freshnessColumn} within {@code rpo}, operator SQL checks);
     * the object drill reads a sample of objects from every store that should hold them.
     */
    public record DrillsConfig(Duration dbEvery, Path identity, String source, String freshnessColumn, Duration rpo, List<String> checks,
                               Duration objectsEvery, int sample) {
        public static final DrillsConfig NONE = new DrillsConfig(Duration.ofDays(1), null, null, null, Duration.ofDays(2), List.of(),
                Duration.ofDays(1), 100);

        public boolean dbEnabled() { return identity != null; }
    }

    /**
     * Alert rules and where alerts go: generic JSON POSTs to {@code webhooks}. A rule fires after its
     * threshold and clears itself when healthy again.
     */
    public record AlertsConfig(List<String> webhooks, Duration drillStaleAfter, double backupStaleFactor, Duration replicationLagAbove,
                               long failedJobsAbove, Duration storeUnhealthyFor, Duration every, Duration walLagAbove, long walRetainedAbove) {
        public static final Duration WAL_LAG_ABOVE = Duration.ofMinutes(1);
        public static final long WAL_RETAINED_ABOVE = 8L << 30;
        public static final AlertsConfig DEFAULTS = new AlertsConfig(List.of(), Duration.ofDays(2), 2.0, Duration.ofHours(1), 0,
                Duration.ofMinutes(10), Duration.ofMinutes(1));

        /** With the default WAL thresholds: streaming quiet for 1m, 8 GiB kept by a slot. */
        public AlertsConfig(List<String> webhooks, Duration drillStaleAfter, double backupStaleFactor, Duration replicationLagAbove,
                            long failedJobsAbove, Duration storeUnhealthyFor, Duration every) {
            this(webhooks, drillStaleAfter, backupStaleFactor, replicationLagAbove, failedJobsAbove, storeUnhealthyFor, every, WAL_LAG_ABOVE,
                    WAL_RETAINED_ABOVE);
        }
    }

    /** API tokens by name; only SHA-256 hashes of the tokens are configured. */
    public record ApiConfig(Map<String, TokenConfig> tokens) {}

    /** {@code source}: for a wal-push token, the one source whose WAL it may push (null for the other scopes). */
    public record TokenConfig(String name, TokenScope scope, String sha256, String source) {
        public TokenConfig(String name, TokenScope scope, String sha256) {
            this(name, scope, sha256, null);
        }
    }

    /**
     * What an API token may do: read, write and admin each include the ones before; wal-push stands apart (a database
     * server's archive_command holds it, so it may push WAL of one source and do nothing else, and no other token pushes WAL).
     */
    public enum TokenScope {
        READ, WRITE, ADMIN, WAL_PUSH;

        public boolean allows(TokenScope needed) {
            if (this == WAL_PUSH || needed == WAL_PUSH) return this == needed;
            return ordinal() >= needed.ordinal();
        }

        /** As the config and the CLI write it: read, write, admin, wal-push. */
        public String label() { return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'); }
    }
}
