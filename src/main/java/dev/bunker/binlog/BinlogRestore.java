package dev.bunker.binlog;

import dev.bunker.backup.Manifest;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.backup.TempFolders;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.mariadb.MariaDbTools;
import dev.bunker.mariadb.MariaDbUrl;
import dev.bunker.pitr.PitrException;
import dev.bunker.pitr.SealedChunks;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Restores a MariaDB source to a point in time: the newest dump finished by then (with its binary log position), then the
 * stored binary log from that position up to the time, replayed with {@code mariadb-binlog --stop-datetime | mariadb}.
 * Refused, before anything is written, when the stored log does not reach the time without a gap.
 */
public final class BinlogRestore {
    private static final DateTimeFormatter STOP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /** The dump restored, the log replayed (from where, how many files) and the newest event time the stored log had. */
    public record Result(String dump, String store, String fromFile, long fromPosition, List<String> files, Instant storedThrough, double seconds) {}

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final RestoreBackup restore;
    private final Path dataDir;

    public BinlogRestore(BackupsConfig config, Map<String, Store> stores, RestoreBackup restore, Path dataDir) {
        this.config = config;
        this.stores = stores;
        this.restore = restore;
        this.dataDir = dataDir;
    }

    /**
     * {@code target}: binary log events with a timestamp before it are replayed (they carry whole seconds); null: the newest
     * dump and every event stored after it without a gap (the drill's restore, and {@code --to-time latest}).
     */
    public Result run(String sourceName, Instant target, String targetUrl, List<String> identities, boolean clean, Consumer<String> progress)
            throws Exception {
        long t0 = System.nanoTime();
        BackupSource source = config.sources().get(sourceName);
        if (source == null || !MariaDbUrl.matches(source.url())) throw new PitrException("\"" + sourceName + "\" is not a MariaDB source", true);
        String sourceDb = source.mariaDbUrl().database(); // null: a source of every database
        MariaDbUrl to = MariaDbUrl.target(targetUrl);
        refuseTheSourcesOwnServer(source.mariaDbUrl(), to);
        Manifest dump = restore.dumps(sourceName).stream().filter(m -> m.binlog() != null && m.binlog().file() != null
                        && (target == null || !m.finishedAt().isAfter(target)))
                .findFirst().orElseThrow(() -> new PitrException("no dump of " + sourceName + " with a binary log position finished by " + target
                        + "; the earliest time to restore to is the end of the first dump taken with the binary log on", true));
        Store first = stores.get(config.stores().get(0));
        ManifestTrust trust = ManifestTrust.of(config.signers(), dataDir);
        List<BinlogChunk> chunks = BinlogArchive.list(first, sourceName, trust, dump.binlog().file()).chunks();
        List<BinlogChunk> run = reaching(chunks, dump, target);
        progress.accept("restoring dump " + dump.id() + ", then the binary log from " + dump.binlog().file() + " byte " + dump.binlog().position()
                + (target == null ? " to its end" : " up to " + target));
        Path dir = TempFolders.createPrivate(dataDir, "binlog-");
        try {
            List<String> files = download(run, dir, identities, progress); // every chunk checked before the target is touched
            List<String> databases = sourceDb != null ? List.of(sourceDb) : dump.databases();
            if (sourceDb == null) refuseDatabasesTheDumpLacks(dir, files, dump, target, databases);
            RestoreBackup.Result restored = restore.run(dump, targetUrl, identities, clean, progress);
            for (String db : databases) { // all-databases: one pass per database, each filtered to it as a one-database source's is
                replay(dir, files, dump, target, db, sourceDb == null ? to.withDatabase(db) : to, progress);
            }
            Instant through = run.stream().map(BinlogChunk::lastEventAt).filter(java.util.Objects::nonNull).max(Instant::compareTo).orElse(null);
            return new Result(dump.id(), restored.store(), dump.binlog().file(), dump.binlog().position(), files, through, (System.nanoTime() - t0) / 1e9);
        } finally {
            TempFolders.deleteTree(dir);
        }
    }

    /**
     * A replayed statement that names its tables with their database ({@code UPDATE shop.orders ...}) runs against that
     * database whatever --rewrite-db says: on the source's own server that is production. So the target must be another
     * server (compared by host name, port and data directory, as each server reports them).
     */
    private static void refuseTheSourcesOwnServer(MariaDbUrl source, MariaDbUrl target) throws IOException, java.sql.SQLException {
        String q = "select concat(@@hostname, ':', @@port, ':', @@datadir)";
        String a;
        String b;
        try (java.sql.Connection c = dev.bunker.mariadb.MariaDbSource.connect(source, "the source", "check the source's url");
             java.sql.ResultSet rs = c.createStatement().executeQuery(q)) {
            rs.next();
            a = rs.getString(1);
        }
        try (java.sql.Connection c = dev.bunker.mariadb.MariaDbSource.connect(target.withDatabase(null), "the restore target",
                "check --target (mariadb://USER@HOST:PORT/DB; password in MYSQL_PWD)"); java.sql.ResultSet rs = c.createStatement().executeQuery(q)) {
            rs.next();
            b = rs.getString(1);
        }
        if (a.equals(b)) {
            throw new PitrException("the target " + target + " is on the source's own server (" + a + "): a replayed statement that names the "
                    + "source's tables would change production; restore to a point in time into another MariaDB server. Nothing was restored", true);
        }
    }

    /**
     * The chunks from byte 0 of the dump's file on, without a gap, up to the first one holding an event at or after
     * {@code target}; refuses when they stop before the time (unless a marker says the server was quiet through it).
     */
    static List<BinlogChunk> reaching(List<BinlogChunk> chunks, Manifest dump, Instant target) throws IOException {
        String file = dump.binlog().file();
        long at = 0;
        List<BinlogChunk> run = new ArrayList<>();
        Instant newest = null;
        boolean rotated = false;
        for (BinlogChunk c : chunks) {
            if (rotated && c.file().equals(BinlogChunk.next(file)) && c.from() == 0) {
                file = c.file();
                at = 0;
                rotated = false;
            }
            if (!c.file().equals(file)) continue;
            boolean pastDump = !file.equals(dump.binlog().file()) || at >= dump.binlog().position();
            if (c.isMarker()) {
                if (c.from() == at && c.rotated() && !run.isEmpty()) rotated = true; // the file ended here (the server crashed)
                if (target != null && c.from() == at && c.quietThrough() != null && !c.quietThrough().isBefore(target) && !run.isEmpty() && pastDump) {
                    return run;
                }
                continue;
            }
            if (c.from() > at || c.to() <= at) continue; // past a gap, or already covered (stored again after a restart)
            run.add(c);
            at = c.to();
            rotated = c.rotated();
            if (c.lastEventAt() != null && (newest == null || c.lastEventAt().isAfter(newest))) newest = c.lastEventAt();
            if (target != null && newest != null && !newest.isBefore(target) && (!file.equals(dump.binlog().file()) || at > dump.binlog().position())) {
                return run;
            }
        }
        if (run.isEmpty() || !run.get(0).file().equals(dump.binlog().file())) {
            throw new IOException("the binary log " + dump.binlog().file() + " from byte 0, which the restore of dump " + dump.id() + " starts from, is "
                    + "not stored; was binlog: {stream: true} on when the dump was taken? Nothing was restored");
        }
        boolean pastDump = !file.equals(dump.binlog().file()) || at >= dump.binlog().position();
        if (target == null && pastDump) return run; // all of it, without a gap
        throw new PitrException("the stored binary log of " + dump.source() + " reaches " + (newest == null ? "no event" : newest.toString())
                + " (" + file + " byte " + at + ") without a gap, not " + target + "; restore to an earlier time, or check the stream "
                + "(`bunker status`: is serve streaming, is the source quiet?). Nothing was restored", true);
    }

    /** Each chunk from the first store that has it whole (SHA-256 of its metadata, then decrypted), appended to its file. */
    private List<String> download(List<BinlogChunk> run, Path dir, List<String> identities, Consumer<String> progress) throws IOException {
        Set<String> files = new LinkedHashSet<>();
        long total = 0;
        for (BinlogChunk c : run) {
            List<String> problems = new ArrayList<>();
            byte[] plain = SealedChunks.read(c.dataKey(), c.size(), c.sha256(), (int) (c.to() - c.from()), stores, config.stores(), identities, problems);
            if (plain == null) {
                throw new IOException("stored binary log " + c.file() + " bytes " + c.from() + ".." + c.to() + " is missing or corrupt in every backup "
                        + "store: " + String.join("; ", problems) + "; nothing was restored");
            }
            Path f = dir.resolve(c.file());
            long have = Files.exists(f) ? Files.size(f) : 0;
            if (have < c.from() || have >= c.to()) throw new IOException("stored binary log " + c.file() + " has a gap before byte " + c.from());
            // A stretch stored again after a restart overlaps the one before: only its new bytes are appended.
            Files.write(f, java.util.Arrays.copyOfRange(plain, (int) (have - c.from()), plain.length), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            files.add(c.file());
            total += plain.length;
        }
        progress.accept(String.format("downloaded %d binary log file(s), %.1f MB", files.size(), total / 1e6));
        return new ArrayList<>(files);
    }

    private static final java.util.regex.Pattern NAMED = java.util.regex.Pattern.compile(
            "^(?:use `((?:[^`]|``)+)`|#.*\\sTable_map: `((?:[^`]|``)+)`\\.)");

    /**
     * A source of every database is replayed one database of its dump at a time: the log must not change a database the
     * dump does not hold (one created after it, whose creation a filtered pass would not replay). Read from the decoded log
     * (the databases its statements use and its row events' tables name), before anything is written.
     */
    private void refuseDatabasesTheDumpLacks(Path dir, List<String> files, Manifest dump, Instant target, List<String> databases)
            throws IOException, InterruptedException {
        List<String> read = readCommand(dir, files, dump, target);
        ProcessBuilder pb = new ProcessBuilder(read).redirectError(dir.resolve("scan.err").toFile());
        pb.environment().put("TZ", "UTC");
        Process p = pb.start();
        java.util.Set<String> others = new java.util.TreeSet<>();
        try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                java.util.regex.Matcher m = NAMED.matcher(line);
                if (!m.find()) continue;
                String db = (m.group(1) != null ? m.group(1) : m.group(2)).replace("``", "`");
                if (!databases.contains(db) && !dev.bunker.mariadb.MariaDbSource.SYSTEM.contains(db)) others.add(db);
            }
            p.waitFor();
        } finally {
            if (p.isAlive()) p.destroyForcibly();
        }
        if (p.exitValue() != 0) throw new IOException("mariadb-binlog failed reading the stored log (exit code " + p.exitValue() + "): " + text(dir.resolve("scan.err")));
        if (!others.isEmpty()) {
            throw new PitrException("the binary log up to " + (target == null ? "its end" : target) + " changes database(s) " + others + " that dump "
                    + dump.id() + " does not hold (created after it, or holding no table then); a replay one database at a time cannot "
                    + "rebuild them: restore to a time before, or take a new dump (bin/bunker db backup --source " + dump.source() + "). "
                    + "Nothing was restored", true);
        }
    }

    /** mariadb-binlog in UTC, from the dump's position up to the time, over the downloaded files. */
    private List<String> readCommand(Path dir, List<String> files, Manifest dump, Instant target) throws IOException {
        Path binlogTool = MariaDbTools.findAny(List.of("mariadb-binlog", "mysqlbinlog"), config.mariaDbBin()).path();
        List<String> read = new ArrayList<>(List.of(binlogTool.toString(), "--no-defaults", "--start-position=" + dump.binlog().position()));
        if (target != null) read.add("--stop-datetime=" + STOP.format(target));
        for (String f : files) read.add(dir.resolve(f).toString());
        return read;
    }

    /** mariadb-binlog (in UTC, from the dump's position, this source's database only) piped into the mariadb client. */
    private void replay(Path dir, List<String> files, Manifest dump, Instant target, String sourceDb, MariaDbUrl to, Consumer<String> progress)
            throws IOException, InterruptedException {
        Path client = MariaDbTools.findAny(List.of("mariadb", "mysql"), config.mariaDbBin()).path();
        MariaDbUrl url = to;
        List<String> read = readCommand(dir, files, dump, target);
        read.add(2, "--database=" + sourceDb);
        if (!sourceDb.equals(url.database())) read.add(3, "--rewrite-db=" + sourceDb + "->" + url.database());
        List<String> load = new ArrayList<>(List.of(client.toString(), "--no-defaults"));
        load.addAll(url.toolArgs());
        load.addAll(List.of("--batch", "--database=" + url.database()));
        ProcessBuilder reader = new ProcessBuilder(read).redirectError(dir.resolve("binlog.err").toFile());
        reader.environment().put("TZ", "UTC");
        ProcessBuilder loader = new ProcessBuilder(load).redirectError(dir.resolve("load.err").toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        loader.environment().putAll(url.toolEnv());
        progress.accept("replaying the binary log of " + sourceDb + " into " + url + (target == null ? " to its end" : " up to " + STOP.format(target) + " UTC"));
        List<Process> pipeline = ProcessBuilder.startPipeline(List.of(reader, loader));
        try {
            for (Process p : pipeline) {
                if (!p.waitFor(24, TimeUnit.HOURS)) throw new IOException("the binary log replay did not end in 24 hours");
            }
        } finally {
            for (Process p : pipeline) {
                if (p.isAlive()) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (pipeline.get(0).exitValue() != 0) {
            throw new IOException("mariadb-binlog failed (exit code " + pipeline.get(0).exitValue() + "): " + text(dir.resolve("binlog.err"))
                    + "; the dump is restored, the binary log only in part");
        }
        if (pipeline.get(1).exitValue() != 0) {
            throw new IOException("replaying the binary log failed (exit code " + pipeline.get(1).exitValue() + "): " + text(dir.resolve("load.err"))
                    + "; the dump is restored, the binary log only in part");
        }
    }

    private static String text(Path f) throws IOException {
        String s = Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : "";
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }
}
