package dev.bunker.config;

import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.Binlog;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.config.BunkerConfig.Pitr;
import dev.bunker.mariadb.MariaDbUrl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The configuration sections of the scheduled jobs: backups, drills and alerts (read and validated for {@link ConfigLoader}). */
final class JobSections {
    private JobSections() {}

    private static final Pattern AGE_RECIPIENT = Pattern.compile("age1[02-9ac-hj-np-z]{58}");
    private static final Pattern SOURCE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
    private static final Pattern SIGNER = Pattern.compile("ed25519:[A-Za-z0-9+/]{40,80}={0,2}");

    static BackupsConfig backups(ConfigNode n, Map<String, StoreConfig> stores) {
        BackupsConfig d = BackupsConfig.NONE;
        List<String> recipients = n.strings("recipients", List.of());
        for (int i = 0; i < recipients.size(); i++) {
            if (!AGE_RECIPIENT.matcher(recipients.get(i).trim()).matches()) {
                throw n.fail(n.child("recipients") + "[" + i + "]", "\"" + recipients.get(i) + "\" is not an age public key; expected age1... as printed by "
                        + "`age-keygen -y key.txt` (never the AGE-SECRET-KEY: the backup machine needs only public keys)");
            }
        }
        ConfigNode baseNode = n.section("base");
        if (baseNode.isPresent() && baseNode.has("every")) {
            throw baseNode.failAt("every", "base backups are taken on demand (`bunker db backup --kind base`), not on a schedule; remove every");
        }
        BackupKind base = kind(baseNode, d.base()); // before the sources: a source's pitr: {keep, lock} is checked against it
        Map<String, BackupSource> sources = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : n.sections("sources").entrySet()) {
            ConfigNode s = e.getValue();
            if (!SOURCE_NAME.matcher(e.getKey()).matches()) { // it names backups' keys and a spool folder
                throw n.fail(n.child("sources") + "." + e.getKey(), "\"" + e.getKey() + "\" is not a source name; expected letters, digits, _ and - "
                        + "(at most 63, starting with a letter or digit)");
            }
            String url = s.requiredString("url", "the database to back up, e.g. postgresql://backup@127.0.0.1:5432/app, mariadb://backup@127.0.0.1:3306/shop, "
                    + "or self for Bunker's own embedded database");
            boolean mariaDb = MariaDbUrl.matches(url);
            boolean allDatabases = s.bool("all-databases", false);
            if (allDatabases && !mariaDb) {
                throw s.failAt("all-databases", "applies to MariaDB and MySQL sources; a PostgreSQL source is one database (back up each as a source)");
            }
            if (mariaDb) {
                try {
                    MariaDbUrl.parse(url, null, null, allDatabases ? MariaDbUrl.Database.NONE : MariaDbUrl.Database.ONE);
                } catch (IllegalArgumentException bad) {
                    throw s.failAt("url", bad.getMessage());
                }
                if (s.section("pitr").isPresent()) {
                    throw s.failAt("pitr", "applies to PostgreSQL sources; a MariaDB source's point-in-time recovery is binlog: {stream: true}");
                }
            } else if (!url.equals("self") && !(url.startsWith("postgresql://") || url.startsWith("postgres://") || url.startsWith("jdbc:postgresql://"))) {
                throw s.failAt("url", "\"" + Redact.databaseUrl(url) + "\" is not a database URL; expected postgresql://USER@HOST:PORT/DB, "
                        + "jdbc:postgresql://HOST:PORT/DB, mariadb://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB");
            } else if (!url.equals("self")) {
                try {
                    PostgresUrls.parse(url);
                } catch (IllegalArgumentException bad) {
                    throw s.failAt("url", bad.getMessage());
                }
            }
            Pitr pitr = pitr(e.getKey(), s.section("pitr"), base);
            if (pitr != null && url.equals("self")) {
                throw s.failAt("pitr", "point-in-time recovery of Bunker's own embedded database is not supported (its role has no REPLICATION); "
                        + "remove pitr, or give the url of an external database");
            }
            ConfigNode binlogNode = s.section("binlog");
            if (binlogNode.isPresent() && !mariaDb) {
                throw s.failAt("binlog", "applies to MariaDB and MySQL sources; a PostgreSQL source's point-in-time recovery is pitr: {wal: stream}");
            }
            ConfigNode physicalNode = s.section("physical");
            if (physicalNode.isPresent() && !mariaDb) {
                throw s.failAt("physical", "applies to MariaDB and MySQL sources; a PostgreSQL source's base backups are scheduled by pitr: {base-every: 1d}");
            }
            sources.put(e.getKey(), new BackupSource(e.getKey(), url, s.string("user", null), s.string("password", null), pitr, binlog(binlogNode),
                    physicalEvery(physicalNode), allDatabases));
            s.rejectUnknownKeys();
        }
        List<String> backupStores = n.strings("stores", List.of());
        for (int i = 0; i < backupStores.size(); i++) {
            if (!stores.containsKey(backupStores.get(i))) {
                throw n.fail(n.child("stores") + "[" + i + "]", "unknown store \"" + backupStores.get(i) + "\"; expected one of " + stores.keySet());
            }
        }
        BackupKind dump = kind(n.section("dump"), d.dump());
        BackupKind snapshot = kind(n.section("snapshot"), d.snapshot());
        Path pgBin = n.path("pg-bin", null);
        Path mariaDbBin = n.path("mariadb-bin", null);
        boolean allowSuperuser = n.bool("allow-superuser", false);
        List<String> signers = n.strings("signers", List.of());
        for (int i = 0; i < signers.size(); i++) {
            if (!SIGNER.matcher(signers.get(i).trim()).matches()) {
                throw n.fail(n.child("signers") + "[" + i + "]", "\"" + signers.get(i) + "\" is not a backup signing key; expected ed25519:... as "
                        + "printed by `bunker db signing-key` on the machine that takes the backups");
            }
        }
        int keepNewest = n.integer("keep-newest", d.keepNewest(), 1, 10_000);
        if (!sources.isEmpty()) {
            if (recipients.isEmpty()) throw n.failAt("recipients", "missing; expected at least one age public key (age1...) to encrypt backups to");
            if (backupStores.isEmpty()) throw n.failAt("stores", "missing; expected the stores that receive backups, e.g. [vault]");
        }
        n.rejectUnknownKeys();
        return new BackupsConfig(List.copyOf(recipients), List.copyOf(backupStores), sources, dump, snapshot, pgBin, allowSuperuser,
                signers.stream().map(String::trim).toList(), keepNewest, base, mariaDbBin);
    }

    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");

    /**
     * {@code pitr: {wal: stream, flush-every: 4s, slot: bunker_app, base-every: 1d, keep: 14d, lock: 14d}} or {@code pitr: {wal: archive,
     * base-every: 1d}}; absent: no point-in-time recovery. {@code keep} and {@code lock} default to {@code base}'s.
     */
    static Pitr pitr(String source, ConfigNode n, BackupKind base) {
        if (!n.isPresent()) return null;
        String wal = n.string("wal", "stream");
        if (!wal.equals("stream") && !wal.equals("archive")) {
            throw n.failAt("wal", "\"" + wal + "\" is not a WAL mode; expected stream (serve streams it through a replication slot) or archive "
                    + "(the server's archive_command pushes each segment to serve)");
        }
        if (wal.equals("archive")) {
            for (String streamOnly : List.of("slot", "flush-every")) {
                if (n.string(streamOnly, null) != null) {
                    throw n.failAt(streamOnly, "applies to wal: stream only; with wal: archive the server sends each finished segment (set "
                            + "archive_timeout on the server to bound how long a segment stays open)");
                }
            }
            Duration baseEvery = baseEvery(n);
            Duration[] keepLock = keepAndLock(n, base);
            n.rejectUnknownKeys();
            return new Pitr(null, null, baseEvery, true, keepLock[0], keepLock[1]);
        }
        Duration flushEvery = flushEvery(n, Pitr.DEFAULT_FLUSH_EVERY, "WAL");
        String slot = n.string("slot", Pitr.defaultSlot(source));
        if (!SLOT.matcher(slot).matches()) {
            throw n.failAt("slot", "\"" + slot + "\" is not a replication slot name; expected lower-case letters, digits and _ (at most 63)");
        }
        Duration baseEvery = baseEvery(n);
        Duration[] keepLock = keepAndLock(n, base);
        n.rejectUnknownKeys();
        return new Pitr(slot, flushEvery, baseEvery, false, keepLock[0], keepLock[1]);
    }

    /**
     * A source's own {@code keep} and {@code lock} for its base backups and WAL (each null where not set; {@code lock: 0}: none),
     * checked as a kind's are against what {@code base} gives the other.
     */
    private static Duration[] keepAndLock(ConfigNode n, BackupKind base) {
        Duration keep = n.duration("keep", null);
        Duration lock = n.duration("lock", null);
        if (keep != null && keep.compareTo(Duration.ofHours(1)) < 0) {
            throw n.failAt("keep", Durations.format(keep) + " is too short; expected at least 1h (a restore to a time needs a base backup before it)");
        }
        Duration effectiveKeep = keep != null ? keep : base.keep();
        Duration effectiveLock = lock == null ? base.lock() : lock.isZero() ? null : lock;
        if (effectiveLock != null && effectiveKeep.compareTo(effectiveLock) < 0) {
            String which = keep != null ? "keep" : "lock";
            throw n.failAt(which, "keep (" + Durations.format(effectiveKeep) + (keep == null ? ", from backups.base" : "") + ") is shorter than the lock ("
                    + Durations.format(effectiveLock) + (lock == null ? ", from backups.base" : "") + "); a locked backup cannot be removed "
                    + "before its lock ends, so keep at least as long");
        }
        return new Duration[] {keep, lock};
    }

    /** {@code binlog: {stream: true, flush-every: 4s, keep: 7d}}; absent or {@code stream: false}: no binary log archiving. */
    static Binlog binlog(ConfigNode n) {
        if (!n.isPresent()) return null;
        boolean stream = n.bool("stream", true);
        Duration flushEvery = flushEvery(n, Binlog.DEFAULT_FLUSH_EVERY, "binary log");
        Duration keep = n.duration("keep", Binlog.DEFAULT_KEEP);
        if (keep.compareTo(Duration.ofHours(1)) < 0) throw n.failAt("keep", Durations.format(keep) + " is too short; expected at least 1h");
        n.rejectUnknownKeys();
        return stream ? new Binlog(flushEvery, keep) : null;
    }

    /** {@code physical: {every: 1d}}: mariadb-backup of the whole server on a schedule; absent: on demand only. */
    static Duration physicalEvery(ConfigNode n) {
        if (!n.isPresent()) return null;
        Duration every = n.duration("every", Duration.ofDays(1));
        if (every.compareTo(Duration.ofHours(1)) < 0) {
            throw n.failAt("every", Durations.format(every) + " is too often; expected at least 1h (a physical backup copies the whole server)");
        }
        n.rejectUnknownKeys();
        return every;
    }

    /** How often a streamed log is stored: 200ms to 10m, the most of {@code log} a lost source loses. */
    private static Duration flushEvery(ConfigNode n, Duration dflt, String log) {
        Duration flushEvery = n.duration("flush-every", dflt);
        if (flushEvery.compareTo(Duration.ofMillis(200)) < 0 || flushEvery.compareTo(Duration.ofMinutes(10)) > 0) {
            throw n.failAt("flush-every", Durations.format(flushEvery) + " is out of range; expected 200ms to 10m (the most " + log + " a lost source loses)");
        }
        return flushEvery;
    }

    private static Duration baseEvery(ConfigNode n) {
        Duration baseEvery = n.duration("base-every", Pitr.DEFAULT_BASE_EVERY);
        if (baseEvery.compareTo(Duration.ofHours(1)) < 0) {
            throw n.failAt("base-every", Durations.format(baseEvery) + " is too often; expected at least 1h (a base backup copies the whole cluster)");
        }
        return baseEvery;
    }

    static BackupKind kind(ConfigNode n, BackupKind d) {
        Duration every = n.duration("every", d.every());
        Duration keep = n.duration("keep", d.keep());
        Duration lock = n.duration("lock", d.lock());
        if (lock != null && lock.isZero()) lock = null;
        int zstd = n.integer("zstd-level", d.zstdLevel(), 1, 19);
        int workers = n.integer("zstd-workers", d.zstdWorkers(), 0, 16);
        if (every.isZero()) throw n.failAt("every", "must be longer than 0s");
        if (lock != null && keep.compareTo(lock) < 0) {
            throw n.failAt("keep", Durations.format(keep) + " is shorter than the lock (" + Durations.format(lock)
                    + "); a locked backup cannot be removed before its lock ends, so keep at least as long");
        }
        n.rejectUnknownKeys();
        return new BackupKind(d.name(), every, keep, lock, zstd, workers);
    }

    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*");

    static DrillsConfig drills(ConfigNode n, BackupsConfig backups) {
        DrillsConfig d = DrillsConfig.NONE;
        ConfigNode db = n.section("db");
        Duration dbEvery = db.duration("every", d.dbEvery());
        Path identity = db.path("identity", null);
        String source = db.string("source", null);
        if (source != null && !backups.sources().containsKey(source)) {
            throw db.failAt("source", "unknown backup source \"" + source + "\"; expected one of " + backups.sources().keySet());
        }
        String freshness = db.string("freshness-column", null);
        if (freshness != null && !COLUMN.matcher(freshness).matches()) {
            throw db.failAt("freshness-column", "\"" + freshness + "\" is not SCHEMA.TABLE.COLUMN, e.g. public.events.created_at");
        }
        Duration rpo = db.duration("rpo", d.rpo());
        List<String> checks = db.strings("checks", List.of());
        if (identity != null && !backups.enabled()) throw db.failAt("identity", "a database drill needs backups: configure backups.sources first");
        db.rejectUnknownKeys();
        ConfigNode objects = n.section("objects");
        Duration objectsEvery = objects.duration("every", d.objectsEvery());
        int sample = objects.integer("sample", d.sample(), 1, 1_000_000);
        objects.rejectUnknownKeys();
        n.rejectUnknownKeys();
        return new DrillsConfig(dbEvery, identity, source, freshness, rpo, List.copyOf(checks), objectsEvery, sample);
    }

    /** {@code dashboard: {sample-every: 1m, history: 30d, session: 12h, audit-every: 31d}}. */
    static BunkerConfig.DashboardConfig dashboard(ConfigNode n) {
        BunkerConfig.DashboardConfig d = BunkerConfig.DashboardConfig.DEFAULTS;
        Duration sampleEvery = n.duration("sample-every", d.sampleEvery());
        if (sampleEvery.compareTo(Duration.ofSeconds(1)) < 0 || sampleEvery.compareTo(Duration.ofHours(1)) > 0) {
            throw n.failAt("sample-every", Durations.format(sampleEvery) + " is out of range; expected 1s to 1h");
        }
        Duration history = n.duration("history", d.history());
        if (history.compareTo(Duration.ofDays(1)) < 0) throw n.failAt("history", Durations.format(history) + " is too short; expected at least 1d (the charts show 24 h)");
        Duration session = n.duration("session", d.session());
        if (session.compareTo(Duration.ofMinutes(5)) < 0 || session.compareTo(Duration.ofDays(30)) > 0) {
            throw n.failAt("session", Durations.format(session) + " is out of range; expected 5m to 30d");
        }
        String auditText = n.string("audit-every", "");
        // YAML reads a bare off as false
        Duration auditEvery = auditText.equals("off") || auditText.equals("false") ? null : n.duration("audit-every", d.auditEvery());
        if (auditEvery != null && auditEvery.compareTo(Duration.ofDays(1)) < 0) {
            throw n.failAt("audit-every", Durations.format(auditEvery) + " is too short; expected at least 1d, or off");
        }
        n.rejectUnknownKeys();
        return new BunkerConfig.DashboardConfig(sampleEvery, history, session, auditEvery);
    }

    /** {@code exports: {every: 1d, to: /srv/exports | store:NAME/path}}: off unless both are set. */
    static BunkerConfig.ExportsConfig exports(ConfigNode n, Map<String, StoreConfig> stores, String primary) {
        String to = n.string("to", "");
        String everyText = n.string("every", "");
        n.rejectUnknownKeys();
        if (to.isEmpty() && everyText.isEmpty()) return BunkerConfig.ExportsConfig.NONE;
        if (to.isEmpty()) throw n.failAt("to", "missing; say where scheduled exports go: a folder, or store:NAME/path");
        if (everyText.isEmpty()) throw n.failAt("every", "missing; say how often serve delivers each subscription, e.g. 1d");
        Duration every = n.duration("every", null);
        if (every.compareTo(Duration.ofMinutes(5)) < 0) throw n.failAt("every", Durations.format(every) + " is too short; expected at least 5m");
        if (to.startsWith("store:")) {
            String name = to.substring("store:".length()).split("/", 2)[0];
            if (!stores.containsKey(name)) throw n.failAt("to", "unknown store \"" + name + "\"; expected one of " + stores.keySet());
            if (name.equals(primary)) throw n.failAt("to", "store \"" + name + "\" is the replication primary: an archive there would be taken for an app object");
        } else {
            to = n.path("to", null).toString(); // relative to the config file's folder
        }
        return new BunkerConfig.ExportsConfig(every, to);
    }

    /**
     * {@code clones: {NAME: {source, target, scrub, identity, every, password}}}: what each needs is checked here, the scrub
     * file itself when the clone runs (it may change between runs).
     */
    static BunkerConfig.ClonesConfig clones(ConfigNode n, BackupsConfig backups) {
        Map<String, BunkerConfig.CloneJob> jobs = new LinkedHashMap<>();
        for (String name : n.keys()) {
            ConfigNode c = n.section(name);
            if (!SOURCE_NAME.matcher(name).matches()) {
                throw n.fail(n.child(name), "\"" + name + "\" is not a clone name; expected letters, digits, _ and - (at most 63)");
            }
            if (!backups.enabled()) throw n.fail(n.child(name), "a scheduled clone is made from backups: configure backups.sources first");
            String source = c.requiredString("source", "the backup source to clone, one of " + backups.sources().keySet());
            if (!backups.sources().containsKey(source)) {
                throw c.failAt("source", "unknown backup source \"" + source + "\"; expected one of " + backups.sources().keySet());
            }
            String target = c.requiredString("target", "the clone's database, e.g. postgresql://dev@127.0.0.1:5432/app_dev");
            if (!(target.startsWith("postgresql://") || target.startsWith("postgres://"))) {
                throw c.failAt("target", "\"" + Redact.databaseUrl(target) + "\" is not a PostgreSQL URL; expected postgresql://USER@HOST:PORT/DB (clones are PostgreSQL-only)");
            }
            try {
                PostgresUrls.parse(target);
            } catch (IllegalArgumentException bad) {
                throw c.failAt("target", bad.getMessage());
            }
            if (MariaDbUrl.matches(backups.sources().get(source).url())) {
                throw c.failAt("source", "\"" + source + "\" is a MariaDB source; clones are PostgreSQL-only for now");
            }
            if (sameDatabase(target, backups.sources().get(source).url())) { // a scheduled clone replaces its target
                throw c.failAt("target", "names the database of source \"" + source + "\" itself; a clone replaces its target: name another database");
            }
            Path scrub = c.path("scrub", null);
            if (scrub == null) throw c.failAt("scrub", "missing; the scrub file (schema.table.column: RULE), see bunker db clone --help");
            Path identity = c.path("identity", null);
            if (identity == null) throw c.failAt("identity", "missing; the age key file that decrypts the backups (keep it on this machine only)");
            Duration every = c.duration("every", Duration.ofDays(1));
            if (every.compareTo(Duration.ofHours(1)) < 0) throw c.failAt("every", Durations.format(every) + " is too short; expected at least 1h");
            List<String> grantTo = c.strings("grant-to", List.of());
            jobs.put(name, new BunkerConfig.CloneJob(name, source, target, c.string("password", null), scrub, identity, every, List.copyOf(grantTo)));
            c.rejectUnknownKeys();
        }
        return new BunkerConfig.ClonesConfig(Map.copyOf(jobs));
    }

    /** Whether two PostgreSQL URLs name the same database on the same server (localhost and 127.0.0.1 taken as one). */
    static boolean sameDatabase(String a, String b) {
        return serverAndDatabase(a).equals(serverAndDatabase(b));
    }

    private static String serverAndDatabase(String url) {
        String rest = url.replaceFirst("^(jdbc:)?postgres(ql)?://", "");
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String db = slash < 0 ? "" : rest.substring(slash + 1).split("\\?", 2)[0];
        String hostPort = authority.substring(authority.lastIndexOf('@') + 1).toLowerCase(java.util.Locale.ROOT).replace("localhost", "127.0.0.1");
        return (hostPort.contains(":") ? hostPort : hostPort + ":5432") + "/" + db;
    }

    static AlertsConfig alerts(ConfigNode n) {
        AlertsConfig d = AlertsConfig.DEFAULTS;
        List<String> webhooks = n.strings("webhooks", List.of());
        for (int i = 0; i < webhooks.size(); i++) {
            String w = webhooks.get(i);
            if (!(w.startsWith("http://") || w.startsWith("https://"))) {
                throw n.fail(n.child("webhooks") + "[" + i + "]", "\"" + w + "\" is not an http(s) URL");
            }
        }
        Duration drill = n.duration("drill-stale-after", d.drillStaleAfter());
        String factorText = n.string("backup-stale-after", "2x");
        double factor;
        try {
            if (!factorText.endsWith("x")) throw new NumberFormatException();
            factor = Double.parseDouble(factorText.substring(0, factorText.length() - 1));
            if (factor < 1) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw n.failAt("backup-stale-after", "\"" + factorText + "\" is not a multiple of the schedule; expected e.g. 2x (alert when the newest backup is older than twice its every)");
        }
        Duration lag = n.duration("replication-lag-above", d.replicationLagAbove());
        int failed = n.integer("failed-jobs-above", (int) d.failedJobsAbove(), 0, Integer.MAX_VALUE);
        Duration unhealthy = n.duration("store-unhealthy-for", d.storeUnhealthyFor());
        Duration every = n.duration("every", d.every());
        Duration walLag = n.duration("wal-lag-above", d.walLagAbove());
        long walRetained = n.bytes("wal-retained-above", d.walRetainedAbove(), 16L << 20, Long.MAX_VALUE / 2);
        n.rejectUnknownKeys();
        return new AlertsConfig(List.copyOf(webhooks), drill, factor, lag, failed, unhealthy, every, walLag, walRetained);
    }
}
