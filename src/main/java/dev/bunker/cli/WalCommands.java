package dev.bunker.cli;

import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.json.Json;
import dev.bunker.pitr.PointInTimeRestore;
import dev.bunker.pitr.RecoveryTarget;
import dev.bunker.pitr.RestoredServer;
import dev.bunker.pitr.WalSlots;
import dev.bunker.pitr.WalTimeline;
import dev.bunker.store.Store;
import dev.bunker.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The point-in-time recovery commands: {@code db timeline}, {@code db slots}, and {@code db restore --to-time}'s output. */
final class WalCommands {
    private WalCommands() {}

    /** "2026-11-22T10:03:00Z", "2026-11-22T10:03:00+01:00" or "2026-11-22 10:03:00+00". */
    static Instant parseTime(CommandLine cmd, String text) {
        String t = text.trim().replace(' ', 'T');
        if (t.matches(".*[+-]\\d\\d$")) t = t + ":00";
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(t);
            } catch (DateTimeParseException e2) {
                throw new CommandLine.ParameterException(cmd, "--to-time \"" + text + "\" is not a time with its zone; expected e.g. 2026-11-22T10:03:00Z");
            }
        }
    }

    static BackupSource source(CommandLine cmd, BunkerConfig config, String name) {
        BackupSource s = config.backups().sources().get(name);
        if (s == null) throw new CommandLine.ParameterException(cmd, "no backup source \"" + name + "\"; configured: " + config.backups().sources().keySet());
        return s;
    }

    /** {@code start}: start the restored server on 127.0.0.1:{@code port} (0: a free one) and wait for its promotion; else leave it ready. */
    static int restoreToTime(BunkerConfig config, Map<String, Store> stores, String source, RecoveryTarget target, Path targetDir, List<String> identities,
                             boolean json, Progress progress, boolean start, int port) throws Exception {
        RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
        PointInTimeRestore.Result r = new PointInTimeRestore(config.backups(), stores, restore, config.dataDir())
                .run(source, target, targetDir, identities, progress);
        RestoredServer.Started server = null;
        if (start) {
            Path postgres = dev.bunker.backup.PgTools.find("postgres", r.majorVersion(), config.backups().pgBin());
            progress.accept("starting PostgreSQL " + r.majorVersion() + " on the restored directory: it replays the WAL, then promotes itself");
            server = RestoredServer.startForUse(postgres, r.dataDirectory(), port, progress);
        }
        progress.close();
        if (json) {
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("restore", r);
            if (server != null) out.put("server", server);
            System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            return 0;
        }
        System.out.printf("restored %s to %s into %s: base backup %s (from store '%s') and %d WAL segment(s), %.1f s%n", source,
                target.isLatest() ? "the newest WAL stored" : target.describe(),
                targetDir, r.baseBackup(), r.store(), r.segments(), r.seconds());
        PointInTimeRestore.Timings t = r.timings();
        System.out.printf("  find %.1f s, WAL download %.1f s, pg_waldump %.1f s, base backup download and extract %.1f s, WAL into place %.1f s%n",
                t.listSeconds(), t.walSeconds(), t.waldumpSeconds(), t.baseDownloadSeconds() + t.baseExtractSeconds(), t.walMoveSeconds());
        System.out.println(r.recoveryTarget() != null
                ? "the server replays to " + r.recoveryTarget() + ": the last transaction it keeps committed at " + r.lastCommitAt() + " (" + r.lastCommitLsn() + ")"
                : target.isLatest() ? "the server replays all of the stored WAL: its last transaction committed at " + r.lastCommitAt()
                : "no transaction committed after " + r.lastCommitAt() + " up to the target: the server replays all of the stored WAL");
        if (server == null) {
            System.out.println("start it as the user that will own it: pg_ctl -D " + targetDir + " -o '-p PORT' -l restore.log start; it refuses "
                    + "connections while it replays, then promotes itself (its log says \"database system is ready to accept connections\"); the WAL it "
                    + "replays is in " + targetDir.resolve(PointInTimeRestore.WAL_FOLDER) + " (remove it once it runs)");
            return 0;
        }
        System.out.printf("the restored server replayed the WAL and promoted itself in %.1f s; it recovered %s%n", server.seconds(),
                server.lastTransactionAt() == null ? "(its log names no transaction)" : server.lastTransactionAt());
        System.out.printf("it runs as pid %d on 127.0.0.1:%d (log %s): connect with the source's roles and passwords as of that time, e.g. "
                + "psql -h 127.0.0.1 -p %d -U ROLE DATABASE; stop it with kill -INT %d%s; %s can go once you keep the server%n", server.pid(),
                server.port(), server.log(), server.port(), server.pid(), RestoredServer.runningAsRoot()
                        ? " (started as root, it runs in a user namespace: for real use, stop it, chown -R postgres the directory and start it with pg_ctl)" : "",
                targetDir.resolve(PointInTimeRestore.WAL_FOLDER));
        return 0;
    }

    @Command(name = "timeline", mixinStandardHelpOptions = true,
            description = "Show what a source can be restored to: its stored WAL without gaps, and per base backup the window of times it restores to.")
    static final class Timeline implements Callable<Integer> {
        @Mixin ConfigOptions options;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--source", required = true, paramLabel = "S", description = "The backup source.")
        String source;

        @Option(names = "--store", paramLabel = "STORE", description = "Read this backup store (default: the first in backups.stores).")
        String store;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = DbCommand.requireBackups(options);
            source(spec.commandLine(), config, source);
            String storeName = store != null ? store : config.backups().stores().get(0);
            Map<String, Store> stores = Stores.openAll(config.stores(), Clock.systemUTC());
            try {
                if (!stores.containsKey(storeName)) throw new CommandLine.ParameterException(spec.commandLine(), "unknown store \"" + storeName + "\"");
                RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
                WalTimeline.Timeline t = WalTimeline.of(stores.get(storeName), source, restore.bases(source),
                        ManifestTrust.of(config.backups().signers(), config.dataDir()));
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(t));
                    return 0;
                }
                System.out.println("WAL of " + source + " in store '" + storeName + "':" + (t.runs().isEmpty() ? " none" : ""));
                WalTimeline.Run previous = null;
                for (WalTimeline.Run r : t.runs()) {
                    boolean sameLine = previous != null && previous.systemId().equals(r.systemId()) && previous.timeline() == r.timeline();
                    if (sameLine) System.out.println("  GAP  " + previous.to() + " .. " + r.from());
                    if (!sameLine && r.timeline() > 1) {
                        System.out.println(r.branchedFrom() != null ? "  timeline " + r.timeline() + " branched from timeline " + r.branchedFrom()
                                : "  timeline " + r.timeline() + ": its history file is not stored; restores do not follow it");
                    }
                    System.out.printf("  cluster %s timeline %d  %s .. %s  received %s .. %s  (%d objects)%n", r.systemId(), r.timeline(), r.from(), r.to(),
                            r.firstReceived(), r.lastReceived(), r.chunks());
                    previous = r;
                }
                System.out.println("base backups and the times (and WAL positions) they restore to:" + (t.windows().isEmpty()
                        ? " none (bunker db backup --kind base)" : ""));
                for (WalTimeline.Window w : t.windows()) {
                    System.out.println("  " + w.baseBackup() + "  " + (w.problem() != null ? "NOT RESTORABLE TO A TIME: " + w.problem()
                            : w.from() + " .. " + w.to() + "  (" + w.fromLsn() + " .. " + w.toLsn() + ")"));
                }
                return 0;
            } finally {
                stores.values().forEach(Store::close);
            }
        }
    }

    /** What a slot no source streams through costs, and the command that drops it. */
    static String leftBehind(WalSlots.Slot s) {
        return "LEFT BEHIND: it keeps WAL on the server for no one; drop it with bunker db slots --source " + s.source() + " --drop " + s.name();
    }

    @Command(name = "slots", mixinStandardHelpOptions = true,
            description = "List Bunker's replication slots on the sources' servers (one in use per source with pitr; others are left behind and keep "
                    + "WAL on the server's disk), or drop one left behind.")
    static final class Slots implements Callable<Integer> {
        @Mixin ConfigOptions options;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--source", paramLabel = "S", description = "Only this source (required with --drop).")
        String source;

        @Option(names = "--drop", paramLabel = "SLOT", description = "Drop this slot (not the one the config streams through).")
        String drop;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = DbCommand.requireBackups(options);
            if (drop != null) {
                if (source == null) throw new CommandLine.ParameterException(spec.commandLine(), "--drop needs --source (the server the slot is on)");
                try {
                    WalSlots.drop(source(spec.commandLine(), config, source), drop, config.backups().sources().values());
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
                System.out.println("dropped replication slot " + drop + " on " + source);
                return 0;
            }
            if (source != null) source(spec.commandLine(), config, source);
            List<WalSlots.Slot> slots = WalSlots.listAll(config.backups().sources().values(), source);
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(slots));
                return 0;
            }
            for (WalSlots.Slot s : slots) {
                System.out.printf("%-12s %-24s %-8s keeps %8.1f MB  %s%n", s.source(), s.name(), s.active() ? "active" : "idle",
                        s.retainedBytes() == null ? 0.0 : s.retainedBytes() / 1e6,
                        s.inUse() ? "streamed by Bunker" : leftBehind(s));
            }
            System.out.println(slots.size() + " slot(s)");
            return 0;
        }
    }
}
