package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.Bunker;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.SigningKey;
import dev.bunker.backup.PruneBackups;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigException;
import dev.bunker.store.Store;
import dev.bunker.store.Stores;
import dev.bunker.json.Json;
import java.util.Map;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker db backup|list|restore|clone|prune}: database backups from the command line. */
@Command(name = "db", mixinStandardHelpOptions = true, description = "Back up, list, restore and prune database backups.",
        subcommands = {DbCommand.Backup.class, DbCommand.ListBackups.class, DbCommand.Restore.class, CloneCommand.class, DbCommand.Prune.class,
                DbCommand.SigningKeyCommand.class, WalCommands.Timeline.class, WalCommands.Slots.class})
public final class DbCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static BunkerConfig requireBackups(ConfigOptions options) {
        BunkerConfig c = options.load();
        if (!c.backups().enabled()) {
            throw new ConfigException(c.source(), "backups.sources", "no backup sources configured; add backups: {recipients: [age1...], stores: [vault], "
                    + "sources: {app: {url: \"postgresql://backup@HOST:5432/app\", password: \"${APP_BACKUP_PW}\"}}}");
        }
        return c;
    }

    @Command(name = "backup", mixinStandardHelpOptions = true, description = "Take a backup now.")
    static final class Backup implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--source", paramLabel = "S", description = "Which source (default: every configured source).")
        String source;

        @Option(names = "--kind", paramLabel = "K", defaultValue = "dump", description = "dump (daily, portable, locked), snapshot (frequent, short-lived) or base (pg_basebackup of the whole cluster, "
                + "on demand; the role needs REPLICATION) or physical (of a MariaDB source: mariadb-backup of the whole server, run on its machine; "
                + "kept as its base backup). Default: ${DEFAULT-VALUE}.")
        String kind;

        @Option(names = "--json", description = "Print the manifests as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = requireBackups(options);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Backups backups = Engine.backups(bunker)) {
                List<String> sources = source == null ? new ArrayList<>(config.backups().sources().keySet()) : List.of(source);
                List<Manifest> taken = new ArrayList<>();
                for (String s : sources) {
                    long t0 = System.nanoTime();
                    Manifest m = backups.take().run(s, kind);
                    taken.add(m);
                    if (!json) {
                        System.out.printf("%s: %.1f MB encrypted, sha256 %s, %s, %.1f s%s%n", m.id(), m.size() / 1e6, m.sha256(),
                                m.wal() != null ? "WAL " + m.wal().start() + " to " + m.wal().end() + " on timeline " + m.wal().timeline()
                                        : m.isBase() ? "the whole server's files" + (m.binlog() == null ? "" : ", binary log at " + m.binlog().file() + ":"
                                        + m.binlog().position()) : m.rowCounts().size() + " tables", (System.nanoTime() - t0) / 1e9,
                                m.retainUntil() == null ? "" : ", locked until " + m.retainUntil());
                        for (String w : m.warnings()) System.out.println("  warning: " + w);
                    }
                }
                if (json) System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(taken));
                return 0;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List backups from the catalog, or with --store from the manifests in that store (and rebuild the catalog from them); "
                    + "with --source, that source's backups and any of Bunker's replication slots left behind on its server.")
    static final class ListBackups implements Callable<Integer> {
        @Mixin ConfigOptions options;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--source", paramLabel = "S", description = "Only this source's backups, and the replication slots left behind on its server.")
        String source;

        @Option(names = "--store", paramLabel = "STORE", description = "Read the manifests in this store instead of the catalog, and add them to the catalog.")
        String store;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = requireBackups(options);
            if (source != null) WalCommands.source(spec.commandLine(), config, source);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Backups backups = Engine.backups(bunker)) {
                List<Manifest> list = new ArrayList<>();
                if (store != null) {
                    BackupCatalog.Found found = backups.catalog().rebuildFrom(bunker.store(store),
                            ManifestTrust.of(config.backups().signers(), config.dataDir()));
                    list.addAll(found.trusted());
                    for (String r : found.refused()) System.err.println("refused (not a backup this installation trusts): " + r);
                    if (!json) System.err.println("catalog rebuilt from " + list.size() + " trusted manifest(s) in store '" + store + "'");
                } else {
                    for (BackupCatalog.Entry e : backups.catalog().list()) list.add(e.manifest());
                }
                if (source != null) list.removeIf(m -> !m.source().equals(source));
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(list));
                } else {
                    for (Manifest m : list) {
                        System.out.printf("%-45s %-8s %s  %8.1f MB  keep until %s%s%s%n", m.id(), m.kind(), m.finishedAt(), m.size() / 1e6, m.keepUntil(),
                                m.retainUntil() == null ? "" : "  locked until " + m.retainUntil(), m.warnings().isEmpty() ? "" : "  (warning: " + m.warnings().get(0) + ")");
                    }
                    System.out.println(list.size() + " backup(s)");
                }
                if (source != null) reportSlotsLeftBehind(config, source, json);
                return 0;
            }
        }
    }

    /** Bunker's replication slots no source streams through on {@code --source}'s server (on stderr with --json); unreachable: said so. */
    private static void reportSlotsLeftBehind(BunkerConfig config, String source, boolean json) {
        java.io.PrintStream to = json ? System.err : System.out;
        try {
            for (dev.bunker.pitr.WalSlots.Slot s : dev.bunker.pitr.WalSlots.listAll(config.backups().sources().values(), source)) {
                if (!s.inUse()) to.printf("replication slot %s on %s's server, %.1f MB of WAL: %s%n", s.name(), source,
                        s.retainedBytes() == null ? 0.0 : s.retainedBytes() / 1e6, WalCommands.leftBehind(s));
            }
        } catch (java.sql.SQLException e) {
            System.err.println("could not look for replication slots left behind on " + source + "'s server: " + e.getMessage());
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Download, verify, decrypt and pg_restore a backup into a database (--target), or extract a base backup into a new "
                    + "data directory (--target-dir), or restore a source with pitr to a point in time (--to-time with --source and --target-dir; "
                    + "a MariaDB source with binlog: --to-time with --source and --target). "
                    + "Refuses a non-empty target unless --clean. "
                    + "Needs only the backup stores (it reads their manifests), not Bunker's own database, which may be the one lost.")
    static final class Restore implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--backup", paramLabel = "ID|latest",
                description = "The backup id (see `db list`) or latest (the newest dump or snapshot; with --target-dir, the newest base backup).")
        String backup;

        @Option(names = "--to-time", paramLabel = "TIME|latest", description = "Restore --source as it was at this time (e.g. 2026-11-22T10:03:00Z): the newest "
                + "base backup before it and the stored WAL up to it, into --target-dir (see `db timeline` for the times there are); latest: "
                + "the newest base backup and all of the WAL stored after it. A MariaDB source: the newest dump finished by then, and its "
                + "binary log replayed up to (not including) that second, into --target.")
        String toTime;

        @Option(names = "--to-lsn", paramLabel = "LSN", description = "Restore --source (with pitr) as it was just before this WAL position (e.g. "
                + "0/3000190, as pg_current_wal_lsn() or pg_waldump print it): every record that starts before it is replayed, the one that "
                + "starts there is not, so the LSN of a bad transaction's commit undoes it. Into --target-dir, as --to-time.")
        String toLsn;

        @Option(names = "--no-start", description = "With --to-time or --to-lsn: leave the restored directory ready to start instead of starting it.")
        boolean noStart;

        @Option(names = "--port", paramLabel = "PORT", description = "With --to-time or --to-lsn: the port the restored server listens on, on 127.0.0.1 (default: a free one).")
        int port;

        @Option(names = "--source", paramLabel = "S", description = "With latest: the newest backup of this source; with --to-time: the source to restore.")
        String source;

        @Option(names = "--target", paramLabel = "URL",
                description = "The database to restore a dump into, e.g. postgresql://postgres@127.0.0.1:5432/restored (password from PGPASSWORD) "
                        + "or, for a MariaDB source's dump, mariadb://root@127.0.0.1:3306/restored (password from MYSQL_PWD; created when missing).")
        String target;

        @Option(names = "--target-dir", paramLabel = "DIR",
                description = "A new or empty folder to restore a base backup into, as a data directory to start with pg_ctl.")
        Path targetDir;

        @Option(names = "--identity", required = true, paramLabel = "FILE", description = "The age key file (age-keygen) whose public key the backup was encrypted to.")
        Path identity;

        @Option(names = "--clean", description = "Drop and replace the objects the backup contains in a non-empty target.")
        boolean clean;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if ((target == null) == (targetDir == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "give one of --target URL (restore a dump into a database) or --target-dir DIR (restore a base backup into a data directory)");
            }
            if (clean && targetDir != null) throw new CommandLine.ParameterException(spec.commandLine(), "--clean applies to --target only");
            if ((backup != null ? 1 : 0) + (toTime != null ? 1 : 0) + (toLsn != null ? 1 : 0) != 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give one of --backup ID|latest, --to-time TIME or --to-lsn LSN");
            }
            Long lsn = null;
            if (toLsn != null) {
                try {
                    lsn = dev.bunker.pitr.Wal.parseLsn(toLsn);
                } catch (IllegalArgumentException bad) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--to-lsn: " + bad.getMessage() + ", as pg_current_wal_lsn() prints it");
                }
            }
            if ((noStart || port != 0) && toTime == null && toLsn == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--no-start and --port apply to --to-time and --to-lsn only");
            }
            if (port < 0 || port > 65535) throw new CommandLine.ParameterException(spec.commandLine(), "--port " + port + " is not a port");
            BunkerConfig config = requireBackups(options);
            boolean mariaDbSource = source != null && config.backups().sources().containsKey(source)
                    && dev.bunker.mariadb.MariaDbUrl.matches(config.backups().sources().get(source).url());
            if (toTime != null && mariaDbSource && target == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--to-time of a MariaDB source needs --target mariadb://USER@HOST:PORT/DB "
                        + "(its dump is restored there, then its binary log replayed; a source of every database: mariadb://USER@HOST:PORT)");
            }
            if (toTime != null && !mariaDbSource && (source == null || targetDir == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--to-time needs --source S and --target-dir DIR (a point-in-time restore "
                        + "writes a data directory)");
            }
            if (toLsn != null && (mariaDbSource || source == null || targetDir == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--to-lsn needs --source S of a PostgreSQL source with pitr and "
                        + "--target-dir DIR" + (mariaDbSource ? " (a MariaDB source restores to a time: --to-time)" : ""));
            }
            if (toTime != null && mariaDbSource && (noStart || port != 0)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--no-start and --port apply to PostgreSQL sources");
            }
            if (target != null) {
                try {
                    if (dev.bunker.mariadb.MariaDbUrl.matches(target)) dev.bunker.mariadb.MariaDbUrl.parse(target, null, null, dev.bunker.mariadb.MariaDbUrl.Database.EITHER);
                    else dev.bunker.backup.Conninfo.parse(target, null, null);
                } catch (IllegalArgumentException bad) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--target: " + bad.getMessage());
                }
            }
            boolean toLatest = toTime != null && toTime.trim().equalsIgnoreCase("latest");
            java.time.Instant time = toTime == null || toLatest ? null : WalCommands.parseTime(spec.commandLine(), toTime);
            List<String> identities = AgeCrypto.readIdentities(identity);
            Map<String, Store> stores = Stores.openAll(config.stores(), Clock.systemUTC());
            try (Progress progress = new Progress()) {
                if (toTime != null && mariaDbSource) {
                    RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
                    dev.bunker.binlog.BinlogRestore.Result r = new dev.bunker.binlog.BinlogRestore(config.backups(), stores, restore, config.dataDir())
                            .run(source, time, target, identities, clean, progress);
                    progress.close();
                    if (json) {
                        System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                    } else {
                        System.out.printf("restored %s into %s, then replayed its binary log from %s byte %d through %d file(s) up to %s, in %.1f s%n",
                                r.dump(), dev.bunker.config.Redact.databaseUrl(target), r.fromFile(), r.fromPosition(), r.files().size(),
                                time == null ? "its end" : time, r.seconds());
                    }
                    return 0;
                }
                if (toTime != null || lsn != null) {
                    WalCommands.source(spec.commandLine(), config, source);
                    dev.bunker.pitr.RecoveryTarget to = lsn != null ? dev.bunker.pitr.RecoveryTarget.beforeLsn(lsn) : dev.bunker.pitr.RecoveryTarget.at(time);
                    return WalCommands.restoreToTime(config, stores, source, to, targetDir, identities, json, progress, !noStart, port);
                }
                RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
                Manifest m = restore.find(backup, source, targetDir != null);
                if (targetDir != null) {
                    RestoreBackup.BaseResult r = restore.runBase(m, targetDir, identities, progress);
                    progress.close();
                    if (json) {
                        System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                    } else if (m.isMariaDb()) {
                        System.out.printf("restored %s (from store '%s') into %s: %d files, download+unpack %.1f s, prepare %.1f s%n"
                                        + "start it with MariaDB %s's server: chown -R mysql:mysql %s; mariadbd --datadir=%s --port=PORT --socket=%s/mysqld.sock%n",
                                m.id(), r.store(), targetDir, r.files(), r.downloadSeconds(), r.extractSeconds(),
                                m.serverVersion() == null ? "" : m.serverVersion().replaceAll("^(\\d+\\.\\d+).*", "$1"), targetDir, targetDir, targetDir);
                    } else {
                        System.out.printf("restored %s (from store '%s') into %s: %d files, download+decrypt %.1f s, extract %.1f s%n"
                                        + "start it with PostgreSQL %s's server, as the user that will own it: pg_ctl -D %s -o '-p PORT' start%n",
                                m.id(), r.store(), targetDir, r.files(), r.downloadSeconds(), r.extractSeconds(),
                                m.serverVersion() == null ? "" : m.serverVersion().replaceAll("^PostgreSQL (\\d+).*", "$1"), targetDir);
                    }
                    return 0;
                }
                RestoreBackup.Result r = restore.run(m, target, identities, clean, progress);
                progress.close();
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                } else {
                    System.out.printf("restored %s (from store '%s') into %s: download+decrypt %.1f s, %s %.1f s over %s%n", m.id(), r.store(),
                            dev.bunker.config.Redact.databaseUrl(target), r.downloadSeconds(), m.isMariaDb() ? "mariadb" : "pg_restore",
                            r.restoreSeconds(), r.via());
                }
                return 0;
            } finally {
                stores.values().forEach(Store::close);
            }
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "Remove backups past their keep period (never before their lock ends), orphans of interrupted backups, and stored WAL "
                    + "no kept base backup needs.")
    static final class Prune implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--dry-run", description = "Show what would be removed; change nothing.")
        boolean dryRun;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = requireBackups(options);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Backups backups = Engine.backups(bunker)) {
                PruneBackups.Report r = backups.prune().run(dryRun);
                dev.bunker.pitr.PruneWal.Report w = new dev.bunker.pitr.PruneWal(config.backups(), bunker.stores(), backups.catalog(),
                        ManifestTrust.of(config.backups().signers(), config.dataDir())).run(dryRun);
                dev.bunker.binlog.PruneBinlog.Report b = new dev.bunker.binlog.PruneBinlog(config.backups(), bunker.stores(), backups.catalog(),
                        Clock.systemUTC()).run(dryRun);
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("backups", r, "wal", w, "binlog", b)));
                } else {
                    if (!b.keptFrom().isEmpty()) {
                        System.out.println("binary log kept " + b.keptFrom() + "; " + (dryRun ? "would remove " : "removed ") + b.removed().size()
                                + " object(s), " + b.lockedStill().size() + " kept until their lock ends");
                    }
                    System.out.println((dryRun ? "would remove: " : "removed: ") + r.removed());
                    if (!w.keptFrom().isEmpty()) {
                        System.out.println("WAL kept " + w.keptFrom() + "; " + (dryRun ? "would remove " : "removed ") + w.removed().size()
                                + " WAL object(s), " + w.lockedStill().size() + " kept until their lock ends");
                    }
                    System.out.println("kept until their lock ends: " + r.lockedStill());
                    System.out.println("kept although past their keep period: " + r.kept());
                    System.out.println((dryRun ? "orphans that would be removed: " : "orphans removed: ") + r.orphansRemoved());
                    if (!r.failed().isEmpty()) System.out.println("could not remove (will retry): " + r.failed());
                }
                return r.failed().isEmpty() && w.failed().isEmpty() ? 0 : 1;
            }
        }
    }

    @Command(name = "signing-key", mixinStandardHelpOptions = true,
            description = "Print the public key this machine signs backup manifests with (creating the key if there is none), and the "
                    + "config line that makes another machine (a drill or restore host) trust them.")
    static final class SigningKeyCommand implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = options.load();
            SigningKey key = SigningKey.loadOrCreate(config.dataDir());
            System.out.println(key.publicKey());
            System.err.println("private key in " + config.dataDir().resolve(SigningKey.FILE) + " (mode 0600; back it up with your secrets)");
            System.err.println("on other machines that drill or restore these backups, add to the config:  backups: {signers: [\""
                    + key.publicKey() + "\"]}");
            return 0;
        }
    }
}
