package dev.bunker.pitr;

import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TempFolders;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Restores a source to a point in time into a new data directory: the newest base backup that finished before the
 * target, and the stored WAL from that backup's start, assembled into segment files beside it with a
 * {@code restore_command} that reads them and the recovery target set, so the server started on the directory replays to
 * the target and promotes. The WAL is downloaded, verified and checked (its commit times, with {@code pg_waldump}) before
 * anything is written to the directory: a target the stored WAL cannot reach, a gap or a corrupt chunk is refused with
 * what is restorable.
 */
public final class PointInTimeRestore {
    public static final String WAL_FOLDER = "bunker_wal";

    /**
     * What was restored: from which base backup and store, the target (a time, or {@code targetLsn}; {@code recoveryTarget}:
     * the recovery_target_time or recovery_target_lsn set, or null when the WAL ends before any later commit and is replayed
     * whole), the last commit kept in the stored WAL, and how many segments were written.
     */
    public record Result(String baseBackup, Path dataDirectory, Instant target, String targetLsn, String recoveryTarget, Instant lastCommitAt,
                         String lastCommitLsn, int segments, String store, double seconds, Timings timings, int majorVersion) {}

    /** Where the time went: finding the base and the chunks, WAL download into segments, pg_waldump, the base backup, the WAL moved in. */
    public record Timings(double listSeconds, double walSeconds, double waldumpSeconds, double baseDownloadSeconds, double baseExtractSeconds,
                          double walMoveSeconds) {}

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final RestoreBackup restore;
    private final Path dataDir;

    public PointInTimeRestore(BackupsConfig config, Map<String, Store> stores, RestoreBackup restore, Path dataDir) {
        this.config = config;
        this.stores = stores;
        this.restore = restore;
        this.dataDir = dataDir;
    }

    /** Restores {@code source} as it was at {@code time}, or (null) as far as its stored WAL reaches: the newest state Bunker holds. */
    public Result run(String source, Instant time, Path dir, List<String> identities, Consumer<String> progress) throws IOException {
        return run(source, RecoveryTarget.at(time), dir, identities, progress);
    }

    /** Restores {@code source} as it was at {@code target}. */
    public Result run(String source, RecoveryTarget target, Path dir, List<String> identities, Consumer<String> progress) throws IOException {
        long t0 = System.nanoTime();
        boolean latest = target.isLatest();
        try {
            RestoreBackup.requireNewOrEmpty(dir);
        } catch (IOException e) {
            throw new PitrException(e.getMessage(), true);
        }
        Manifest base = baseBefore(source, target);
        if (base.wal().systemId() == null) {
            throw new PitrException("base backup " + base.id() + " does not record its cluster's system identifier (taken by an earlier build); "
                    + "take a new one (bunker db backup --kind base --source " + source + ")");
        }
        ManifestTrust trust = ManifestTrust.of(config.signers(), dataDir);
        // Each backup store's WAL on its own (a store added later has less): to a time, the first that reaches it; to the
        // latest, the one that reaches furthest.
        Found found = null;
        WalArchive.Coverage coverage = null;
        List<String> short_ = new ArrayList<>();
        boolean callersFault = true;
        RestoreRoute route = null;
        for (Found f : chunksAfter(base, target, trust)) {
            RestoreRoute r = RestoreRoute.of(stores.get(f.store()), base, f.chunks(), f.segmentStart(), f.segmentSize(), trust, progress);
            WalArchive.Coverage c = WalArchive.coverage(f.chunks(), r.legs());
            Instant newest = latest(c.receivedUntil(), c.completeThrough());
            if (c.reached() < Wal.parseLsn(base.wal().end())) {
                short_.add("store '" + f.store() + "': the WAL after base backup " + base.id() + " does not reach its end (" + base.wal().end() + "): "
                        + (c.gap() != null ? c.gap() : "it stops at " + Wal.formatLsn(c.reached())));
                callersFault = false;
            } else if (latest) {
                if (coverage == null || c.reached() > coverage.reached()) {
                    found = f;
                    coverage = c;
                    route = r;
                }
            } else if (!target.reachedBy(c.reached(), newest)) {
                short_.add("store '" + f.store() + "': the WAL after base backup " + base.id() + " reaches only "
                        + (target.lsn() != null ? Wal.formatLsn(c.reached()) : "about " + newest)
                        + (c.gap() != null ? " (" + c.gap() + ")" : "") + ", restorable: " + target.window(base, c.reached(), newest));
            } else {
                found = f;
                coverage = c;
                route = r;
                break;
            }
        }
        if (found == null) {
            throw new PitrException(source + " cannot be restored to " + target.describe() + ": " + String.join("; ", short_)
                    + "; nothing was restored", callersFault);
        }
        double listSeconds = (System.nanoTime() - t0) / 1e9;
        progress.accept("base backup " + base.id() + ", WAL " + coverage.chunks().size() + " chunk(s) from " + found.store() + " to "
                + Wal.formatLsn(coverage.reached()) + (route.history() == null ? "" : " on timeline " + route.timeline() + " (following "
                + route.history().name().substring(0, TimelineHistory.fileName(0).length()) + ")"));
        Path work = TempFolders.createPrivate(dataDir, "pitr-");
        boolean existed = Files.exists(dir);
        Consumer<String> shared = line -> {
            synchronized (progress) {
                progress.accept(line);
            }
        };
        // The WAL (download, then pg_waldump) and the base backup (download and extract) on two threads: neither needs the
        // other, and pg_waldump is the longer part. The first to fail stops the other (a corrupt chunk or a gap found in the
        // WAL stops the base download, which may take hours, at once); the directory is then emptied again, so a refused
        // restore leaves nothing behind.
        java.util.concurrent.ExecutorService halves = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "pitr-restore");
            t.setDaemon(true);
            return t;
        });
        try {
            Path segments = Files.createDirectory(work.resolve(WAL_FOLDER), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            WalArchive.Coverage cov = coverage;
            RestoreRoute way = route;
            var done = new java.util.concurrent.ExecutorCompletionService<Object>(halves);
            java.util.concurrent.Future<Object> walSide = done.submit(() -> walSide(source, base, target, cov, way, segments, identities, shared));
            java.util.concurrent.Future<Object> baseSide = done.submit(() -> restore.runBase(base, dir, identities, shared));
            RestoreBackup.BaseResult b;
            WalSide w;
            try {
                done.take().get(); // the first to end: throws if it failed
                done.take().get();
                b = (RestoreBackup.BaseResult) baseSide.get();
                w = (WalSide) walSide.get();
            } catch (java.util.concurrent.ExecutionException | InterruptedException e) {
                walSide.cancel(true);
                baseSide.cancel(true);
                halves.shutdownNow();
                try {
                    halves.awaitTermination(2, java.util.concurrent.TimeUnit.MINUTES); // the base thread writes into the directory until it stops
                } catch (InterruptedException again) {
                    Thread.currentThread().interrupt();
                }
                undo(dir, existed);
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while restoring");
                }
                if (e.getCause() instanceof dev.bunker.backup.LocalWriteException full) { // the WAL's half (the base's says so itself)
                    throw new PitrException(full.getMessage() + "; nothing was restored, and the stored WAL was not at fault: the WAL is "
                            + "assembled in " + dataDir + " first (up to 16 MB a segment); free space there, or restore with a --data-dir on a "
                            + "disk with room (its backups.signers must then list the key that signed the WAL: `bunker db signing-key`)");
                }
                if (e.getCause() instanceof IOException io) throw io;
                if (e.getCause() instanceof RuntimeException re) throw re;
                throw new IOException(e.getCause());
            }
            long t4 = System.nanoTime();
            try {
                moveInto(segments, b.dataDirectory().resolve(WAL_FOLDER));
                writeRecoveryConfig(b.dataDirectory(), w.recoveryTarget() == null ? null : target, route.history() == null ? null : route.timeline());
            } catch (IOException e) {
                undo(dir, existed); // a directory without its WAL or its recovery settings must not be started
                throw new PitrException("unable to put the WAL and the recovery settings into " + dir + " on this machine: " + e.getMessage()
                        + "; nothing was restored, and the stored WAL was not at fault: choose a --target-dir on a disk with room for the data "
                        + "directory and its WAL");
            }
            Timings timings = new Timings(listSeconds, w.walSeconds(), w.waldumpSeconds(), b.downloadSeconds(), b.extractSeconds(),
                    (System.nanoTime() - t4) / 1e9);
            String targetLsn = target.lsn() == null ? null : Wal.formatLsn(target.lsn());
            return new Result(base.id(), b.dataDirectory(), target.time(), targetLsn, w.recoveryTarget(), w.commits().lastBefore(),
                    w.commits().lastBeforeLsn(), w.segments(), found.store(), (System.nanoTime() - t0) / 1e9, timings, WalFiles.major(base));
        } finally {
            halves.shutdownNow();
            try {
                halves.awaitTermination(2, java.util.concurrent.TimeUnit.MINUTES); // pg_waldump ends by itself; then the work folder can go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TempFolders.deleteTree(work);
        }
    }

    /** The WAL's half of a restore: segments written, their commits, the recovery target chosen (null: replay all), the time each step took. */
    private record WalSide(int segments, WalFiles.Commits commits, String recoveryTarget, double walSeconds, double waldumpSeconds) {}

    private WalSide walSide(String source, Manifest base, RecoveryTarget target, WalArchive.Coverage coverage, RestoreRoute route, Path segments,
                            List<String> identities, Consumer<String> progress) throws IOException {
        long t1 = System.nanoTime();
        int written = WalFiles.assemble(coverage.chunks(), stores, config.stores(), identities, segments, progress);
        if (route.history() != null) {
            // PostgreSQL asks for the history of the timeline it follows through the restore_command, as for the segments.
            Files.writeString(segments.resolve(TimelineHistory.fileName(route.timeline())), route.history().content(), StandardOpenOption.CREATE_NEW);
        }
        long t2 = System.nanoTime();
        WalChunk last = coverage.chunks().get(coverage.chunks().size() - 1);
        long walStart = Wal.parseLsn(base.wal().start());
        long scanFrom = Math.max(walStart, scanFrom(coverage.chunks(), target));
        WalFiles.Commits commits = route.commits(segments, base, scanFrom, coverage.reached(), target, config.pgBin());
        // The newest commit before the target lies further back: start earlier, twice as far each time (each read stops at
        // the first commit after the target, so it costs what lies between).
        long span = last.segmentSize();
        while (commits.lastBefore() == null && scanFrom > walStart) {
            scanFrom = Math.max(walStart, scanFrom - span);
            span *= 2;
            commits = route.commits(segments, base, scanFrom, coverage.reached(), target, config.pgBin());
        }
        // No commit after the target in what was read: replaying all of the WAL is decided on all of it, never on a part.
        if (!target.isLatest() && commits.firstAfter() == null && scanFrom > walStart) {
            commits = route.commits(segments, base, walStart, coverage.reached(), target, config.pgBin());
        }
        long t3 = System.nanoTime();
        if (commits.firstAfter() == null && commits.stoppedAt() < Math.min(last.startLsn(), coverage.reached() - (1 << 20))) {
            // Replaying all of it would stop where pg_waldump did, short of what was stored: a damaged record, not the end.
            throw new PitrException("the stored WAL of " + source + " cannot be read past " + Wal.formatLsn(commits.stoppedAt()) + ", before its "
                    + "end at " + Wal.formatLsn(coverage.reached()) + " (pg_waldump stops there); nothing was restored. Times before the last "
                    + "commit it read (" + commits.lastBefore() + ") may restore");
        }
        String recoveryTarget;
        if (target.isLatest()) {
            recoveryTarget = null; // all of the stored WAL
        } else if (commits.firstAfter() != null) {
            recoveryTarget = target.setting();
        } else if (target.lsn() != null) {
            recoveryTarget = null; // the WAL read reaches past the position (checked) with no commit from there: all of it is the state there
        } else if (coverage.completeThrough() != null && !coverage.completeThrough().isBefore(target.time())) {
            recoveryTarget = null; // nothing committed between the last commit and the target: all of the WAL is the state at the target
        } else {
            throw new PitrException("the stored WAL of " + source + " has no commit after " + target.time() + " and is not known to be complete up to "
                    + "it (the newest commit in it is at " + commits.lastBefore() + (coverage.completeThrough() == null ? ""
                    : ", complete up to " + coverage.completeThrough()) + "); restore to an earlier time, or wait for the stream to "
                    + "store more (a quiet source is marked every " + WalStream.QUIET_MARK_EVERY.toSeconds() + " s); nothing was restored", true);
        }
        return new WalSide(written, commits, recoveryTarget, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }

    /** How much earlier than the target pg_waldump starts reading: bytes arrive after they were written, clocks differ a little. */
    static final Duration SCAN_SLACK = Duration.ofSeconds(5);

    /**
     * Where pg_waldump starts: at the first segment with WAL received after {@code target} less {@link #SCAN_SLACK} (earlier
     * chunks hold only commits before the target, and it stops at the first commit after it: a restore to a time in a day
     * of WAL reads seconds of it, not the day), or at the last segment when nothing arrived since (the newest commits are
     * there; to the latest state, too). What it finds there decides the target; a restore that would replay all of the WAL
     * reads all of it first (see {@link #walSide}).
     */
    static long scanFrom(List<WalChunk> chunks, RecoveryTarget target) {
        WalChunk last = chunks.get(chunks.size() - 1);
        if (target.lsn() != null) return target.lsn() / last.segmentSize() * last.segmentSize(); // the position's segment
        if (target.time() != null) {
            Instant before = target.time().minus(SCAN_SLACK);
            for (WalChunk c : chunks) if (!c.receivedAt().isBefore(before)) return Wal.segmentStart(c.segment(), c.segmentSize());
        }
        return Wal.segmentStart(last.segment(), last.segmentSize());
    }

    /** A refused restore leaves the directory as it found it: empty, or absent. */
    private static void undo(Path dir, boolean existed) throws IOException {
        if (existed) {
            TempFolders.empty(dir);
        } else {
            TempFolders.deleteTree(dir);
        }
    }

    /** The newest base backup a restore to {@code target} can start from (to the latest: the newest of all). */
    private Manifest baseBefore(String source, RecoveryTarget target) throws IOException {
        List<Manifest> bases = restore.bases(source).stream().filter(m -> m.wal() != null).toList();
        if (bases.isEmpty()) {
            throw new PitrException("no base backup of source " + source + " in the catalog or the stores " + config.stores() + "; take one with "
                    + "`bunker db backup --kind base --source " + source + "` (point-in-time restores start from one)");
        }
        for (Manifest m : bases) if (target.startsFrom(m)) return m;
        Manifest oldest = bases.get(bases.size() - 1);
        throw new PitrException(target.describe() + " is before the oldest base backup of " + source + " (" + oldest.id() + ", finished "
                + oldest.finishedAt() + " at " + oldest.wal().end() + "); the earliest " + (target.lsn() != null ? "position to restore to is " + oldest.wal().end()
                : "time to restore to is " + oldest.finishedAt()), true);
    }

    /** The trusted chunks of one backup store from the base backup's first segment on. */
    private record Found(List<WalChunk> chunks, long segmentStart, long segmentSize, String store) {}

    /** Every backup store's chunks (those that have any) to what a restore to {@code target} needs (null: all); none at all is an error that says why. */
    private List<Found> chunksAfter(Manifest base, RecoveryTarget target, ManifestTrust trust) throws IOException {
        List<String> problems = new ArrayList<>();
        List<Found> out = new ArrayList<>();
        for (String name : config.stores()) {
            Store store = stores.get(name);
            try {
                String sys = base.wal().systemId();
                java.util.Optional<WalChunk> first = WalArchive.first(store, base.source(), sys, trust, String.format("%08X", base.wal().timeline()));
                if (first.isEmpty()) {
                    problems.add(name + ": no trusted WAL of " + base.source() + " (cluster " + sys + ") on timeline " + base.wal().timeline());
                    continue;
                }
                long segmentSize = first.get().segmentSize();
                String segment = Wal.segmentName(base.wal().timeline(), Wal.parseLsn(base.wal().start()), segmentSize);
                List<WalChunk> chunks = new ArrayList<>(WalArchive.list(store, base.source(), sys, trust, segment, target.listUntil()).chunks());
                // To a position: its segment and the next (the first record from it may cross), not the WAL stored since
                if (target.lsn() != null) chunks.removeIf(c -> c.startLsn() >= target.lsn() + segmentSize);
                chunks.sort(Comparator.comparingLong(WalChunk::startLsn).thenComparingLong(WalChunk::endLsn));
                out.add(new Found(chunks, Wal.segmentStart(segment, segmentSize), segmentSize, name));
            } catch (StoreException | IOException e) {
                problems.add(name + ": unreadable (" + e.getMessage() + ")");
            }
        }
        if (out.isEmpty()) {
            throw new PitrException("no stored WAL for base backup " + base.id() + " in " + config.stores() + ": " + String.join("; ", problems)
                    + "; is backups.sources." + base.source() + ".pitr set and serve running?");
        }
        return out;
    }

    private static Instant latest(Instant a, Instant b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.isAfter(b) ? a : b;
    }

    /**
     * The server replays from {@code bunker_wal/} (its working directory is the data directory) to the target, then
     * promotes; archive_mode off, so a restored copy never pushes WAL into the production archive; hot_standby off, so
     * no one reads a half-recovered database (and the server may have fewer connections than the source had).
     */
    static void writeRecoveryConfig(Path dir, RecoveryTarget target, Integer timeline) throws IOException {
        // Every target setting is written, empty where unused (the backup may carry an earlier restore's target), and the one
        // used last: PostgreSQL refuses a second target, even an empty one, assigned after a set one.
        boolean atLsn = target != null && target.lsn() != null;
        String used = atLsn ? "recovery_target_lsn" : "recovery_target_time";
        StringBuilder conf = new StringBuilder("\n# bunker db restore: replay the stored WAL in " + WAL_FOLDER + "/, then promote\n")
                .append("restore_command = 'cp " + WAL_FOLDER + "/%f \"%p\"'\n")
                .append("recovery_target = ''\nrecovery_target_name = ''\nrecovery_target_xid = ''\n")
                .append(atLsn ? "recovery_target_time" : "recovery_target_lsn").append(" = ''\n")
                .append(used).append(" = '").append(target == null ? "" : target.setting()).append("'\n")
                .append("recovery_target_inclusive = '").append(atLsn ? "off" : "on").append("'\nrecovery_target_timeline = '").append(timeline == null ? "current" : timeline.toString()).append("'\n")
                .append("recovery_target_action = 'promote'\n")
                .append("archive_mode = 'off'\n")
                .append("hot_standby = 'off'\n");
        Files.writeString(dir.resolve("postgresql.auto.conf"), conf, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
        Files.write(dir.resolve("recovery.signal"), new byte[0], StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.SYNC);
    }

    private static void moveInto(Path from, Path to) throws IOException {
        TempFolders.deleteTree(to); // an earlier restore's WAL, carried by the base backup of a cluster that was once restored: never replayed
        Files.createDirectory(to, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (var files = Files.list(from)) {
            for (Path f : files.sorted().toList()) {
                Path target = to.resolve(f.getFileName());
                try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                try {
                    Files.move(f, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE); // the same file system: a rename
                } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                    Files.copy(f, target);
                    try (var ch = java.nio.channels.FileChannel.open(target, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
        }
        try (var ch = java.nio.channels.FileChannel.open(to, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
