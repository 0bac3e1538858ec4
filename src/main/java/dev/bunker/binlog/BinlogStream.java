package dev.bunker.binlog;

import dev.bunker.backup.BackupCatalog;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.TempFolders;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.mariadb.MariaDbSource;
import dev.bunker.mariadb.MariaDbTools;
import dev.bunker.mariadb.MariaDbUrl;
import dev.bunker.pitr.WalLedger;
import dev.bunker.pitr.WalUploader;
import dev.bunker.store.LockState;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams one MariaDB source's binary log into the backup stores: {@code mariadb-binlog --read-from-remote-server --raw
 * --stop-never} (supervised, restarted when it stops) writes the server's files into a private spool folder, and every
 * {@code flush-every} the whole events added since are stored as a chunk ({@link BinlogChunk}). A file leaves the spool
 * once its last event (the ROTATE) is stored. After a restart (or kill -9) the stream resumes from what the stores hold:
 * the file being written is read again from its start and only the bytes past the stored end are stored, so nothing is
 * lost and nothing is stored twice; a file the server purged in between is recorded as a gap.
 */
public final class BinlogStream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BinlogStream.class);
    private static final Duration MARKER_EVERY = Duration.ofMinutes(5);
    private static final int FIRST_READ = 16 << 20;

    private final BackupSource source;
    private final MariaDbUrl url;
    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final WalUploader uploader;
    private final WalLedger ledger;
    private final BackupCatalog catalog;
    private final ManifestTrust trust;
    private final Clock clock;
    private final Path spool;
    private volatile boolean stopping;
    private Thread thread;
    private ToolProcess child;

    private String file;
    private long shipped;
    private Instant lastMarker = Instant.EPOCH;
    private volatile Instant durableAt;
    private volatile boolean streaming;
    private Double lagSeconds;

    public BinlogStream(BackupSource source, BackupsConfig config, Map<String, Store> stores, WalUploader uploader, WalLedger ledger,
                        BackupCatalog catalog, ManifestTrust trust, Clock clock, Path dataDir) {
        this.source = source;
        this.url = source.mariaDbUrl(); // the server; its database, if any, plays no part in reading the log
        this.config = config;
        this.stores = stores;
        this.uploader = uploader;
        this.ledger = ledger;
        this.catalog = catalog;
        this.trust = trust;
        this.clock = clock;
        this.spool = dataDir.resolve("binlog").resolve(source.name());
    }

    public void start() {
        thread = new Thread(this::run, "binlog-" + source.name());
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long backoff = 1000;
        while (!stopping) {
            try {
                session();
                backoff = 1000;
            } catch (Exception e) {
                if (stopping) break;
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.warn("binary log stream of {} stopped, retrying in {} s: {}", source.name(), backoff / 1000, why);
                report(false, why);
                sleep(backoff);
                backoff = Math.min(backoff * 2, 30_000);
            } finally {
                if (child != null) child.destroy();
                child = null;
            }
        }
    }

    /** One connection's worth of streaming: checks the server, finds where to start, runs mariadb-binlog and stores what it writes. */
    private void session() throws Exception {
        MariaDbSource db = new MariaDbSource(url, source.name());
        List<String> serverFiles;
        String serverVersion;
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select version(), @@log_bin, @@binlog_format")) {
                rs.next();
                serverVersion = rs.getString(1);
                if (!rs.getBoolean(2) || !"ROW".equalsIgnoreCase(rs.getString(3))) {
                    throw new IOException("the server of source '" + source.name() + "' has " + (rs.getBoolean(2) ? "binlog_format=" + rs.getString(3)
                            : "its binary log off") + "; point-in-time recovery needs the binary log on in ROW format: add log_bin and "
                            + "binlog_format=ROW to the [mysqld] section of its my.cnf and restart it");
                }
            }
            serverFiles = binaryLogs(s);
        }
        resumePoint(serverFiles);
        TempFolders.deleteTree(spool);
        Files.createDirectories(spool.getParent());
        Files.createDirectory(spool, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        MariaDbTools.Tool tool = MariaDbTools.findAny(List.of("mariadb-binlog", "mysqlbinlog"), config.mariaDbBin());
        List<String> cmd = new ArrayList<>(List.of(tool.path().toString(), "--no-defaults", "--read-from-remote-server", "--raw", "--stop-never",
                "--stop-never-slave-server-id=" + replicaId(), "--result-file=" + spool + "/"));
        cmd.addAll(url.toolArgs());
        cmd.add(file);
        child = ToolProcess.start("mariadb-binlog", cmd, url.toolEnv());
        LOG.info("streaming the binary log of {} ({}) from {} byte {}", source.name(), serverVersion, file, shipped);
        Duration every = source.binlog().flushEvery();
        try (Connection watch = db.connect()) { // one connection a session for the server's position, not one a flush
            while (!stopping) {
                sleep(every.toMillis());
                ship();
                if (!child.alive()) {
                    ship(); // what it wrote before it stopped
                    child.checkSuccess();
                    throw new IOException("mariadb-binlog stopped");
                }
                checkQuiet(watch);
                report(true, null);
            }
        }
        Thread.interrupted(); // stopping: what the spool holds goes to the stores before they close, uninterrupted
        ship();
        report(false, null);
    }

    /** Where to go on: after the last stored chunk, or (nothing stored) at the newest dump's file, else the server's current one. */
    private void resumePoint(List<String> serverFiles) throws IOException, SQLException {
        String hint = null;
        WalLedger.Row row = ledger.row(source.name());
        if (row != null && row.durableLsn() != null && row.durableLsn().contains(":")) hint = row.durableLsn().substring(0, row.durableLsn().indexOf(':'));
        if (hint != null && !BinlogChunk.isFileName(hint)) hint = null;
        // Each store's last chunk; the stream goes on from the one that holds least (a process killed between storing a chunk in
        // one store and the next leaves them apart), so every store gets every byte.
        String resumeFile = null;
        long resumeAt = 0;
        boolean none = false;
        for (String name : config.stores()) {
            List<BinlogChunk> stored = BinlogArchive.list(stores.get(name), source.name(), trust, hint).chunks();
            BinlogChunk last = stored.stream().filter(c -> !c.isMarker() || c.rotated()).reduce((a, b) -> b).orElse(null);
            if (last == null) {
                none = true;
                continue;
            }
            String f = last.rotated() ? BinlogChunk.next(last.file()) : last.file();
            long at = last.rotated() ? 0 : last.to();
            if (resumeFile == null || BinlogChunk.sequence(f) < BinlogChunk.sequence(resumeFile)
                    || BinlogChunk.sequence(f) == BinlogChunk.sequence(resumeFile) && at < resumeAt) {
                resumeFile = f;
                resumeAt = at;
            }
        }
        if (none && resumeFile != null) {
            LOG.warn("binary log stream of {}: a backup store holds none of it yet (a new store?); it gets what is stored from {} byte {} on",
                    source.name(), resumeFile, resumeAt);
        }
        if (resumeFile == null) { // nothing stored anywhere: from the newest dump's file, else the server's current one
            String dumpFile = newestDumpFile();
            file = dumpFile != null && serverFiles.contains(dumpFile) ? dumpFile : serverFiles.get(serverFiles.size() - 1);
            shipped = 0;
            return;
        }
        file = resumeFile;
        shipped = resumeAt;
        if (!serverFiles.contains(file)) {
            long after = BinlogChunk.sequence(file);
            String resumeAt2 = serverFiles.stream().filter(f -> BinlogChunk.sequence(f) > after).findFirst()
                    .orElse(serverFiles.get(serverFiles.size() - 1));
            LOG.warn("the server of {} no longer has {}: the binary log from {} byte {} to {} was never stored", source.name(), file, file, shipped, resumeAt2);
            ledger.recordGap(source.name(), file + ":" + shipped, resumeAt2 + ":0", clock.instant());
            file = resumeAt2;
            shipped = 0;
        }
    }

    private String newestDumpFile() {
        try {
            for (BackupCatalog.Entry e : catalog.list()) { // newest first
                if (e.manifest().source().equals(source.name()) && e.manifest().binlog() != null) return e.manifest().binlog().file();
            }
        } catch (SQLException | IOException e) {
            LOG.warn("binary log stream of {}: the backup catalog is unreadable ({}); starting at the server's current file", source.name(), e.getMessage());
        }
        return null;
    }

    /** Stores the whole events the spool has past {@code shipped}, file after file. */
    private void ship() throws IOException {
        while (true) {
            Path f = spool.resolve(file);
            if (!Files.exists(f)) return;
            long size = Files.size(f);
            if (size <= shipped) {
                // mariadb-binlog writes a file's last event before it opens the next: once a later file is there, this size is final.
                if (size == shipped && laterFileInSpool() && Files.size(f) == shipped) endAbruptly(f);
                else return;
                continue;
            }
            int want = (int) Math.min(size - shipped, FIRST_READ);
            byte[] buf;
            BinlogEvents.Scan scan;
            while (true) {
                buf = new byte[want];
                int n;
                try (RandomAccessFile in = new RandomAccessFile(f.toFile(), "r")) {
                    in.seek(shipped);
                    n = in.read(buf, 0, want);
                }
                scan = BinlogEvents.scan(buf, Math.max(n, 0), shipped, file);
                if (scan.events() > 0 || n < want || want >= size - shipped) break;
                want = (int) Math.min(size - shipped, Math.min((long) want * 2, BinlogEvents.MAX_EVENT + BinlogEvents.HEADER)); // one event larger than a read
            }
            if (scan.events() == 0) return; // the next event is still being written
            Instant now = clock.instant();
            byte[] sealed = uploader.seal(buf, scan.end());
            BinlogChunk chunk = new BinlogChunk(source.name(), file, shipped, shipped + scan.end(), scan.firstEventAt(), scan.lastEventAt(), scan.rotated(),
                    now, sealed.length, Sha256.hexOf(sealed), null);
            LockState lock = lock(now);
            uploader.putSealed(chunk.dataKey(), sealed, lock, "binary log " + file + " bytes " + chunk.from() + ".." + chunk.to());
            uploader.putSigned(chunk.metaKey(), chunk, lock);
            shipped = chunk.to();
            durableAt = now;
            lagSeconds = Math.max(0, Duration.between(scan.firstEventAt(), now).toMillis() / 1000.0);
            if (!scan.rotated()) continue;
            Files.deleteIfExists(f);
            file = BinlogChunk.next(file);
            shipped = 0;
        }
    }

    /**
     * mariadb-binlog went on to a later file while this one ends without a ROTATE or STOP event (the server crashed): every
     * byte of it is stored, so a marker records that it ends here, and the stream goes on with the next.
     */
    private void endAbruptly(Path f) throws IOException {
        Instant now = clock.instant();
        BinlogChunk end = new BinlogChunk(source.name(), file, shipped, shipped, null, null, true, now, 0, null, null);
        uploader.putSigned(end.metaKey(), end, lock(now));
        LOG.warn("binary log {} of {} ends at byte {} without a closing event (the server stopped abruptly); going on with {}", file, source.name(),
                shipped, BinlogChunk.next(file));
        Files.deleteIfExists(f);
        file = BinlogChunk.next(file);
        shipped = 0;
    }

    private boolean laterFileInSpool() throws IOException {
        long current = BinlogChunk.sequence(file);
        try (var names = Files.list(spool)) {
            return names.map(p -> p.getFileName().toString()).anyMatch(n -> BinlogChunk.isFileName(n) && n.startsWith(file.substring(0, file.lastIndexOf('.') + 1))
                    && BinlogChunk.sequence(n) > current);
        }
    }

    /**
     * With nothing new on the server, a marker at most every five minutes: a restore to a time in a quiet stretch then knows
     * nothing is missing (up to the newest marker; 288 small objects a quiet day at the most).
     */
    private void checkQuiet(Connection c) throws SQLException, IOException {
        Instant now = clock.instant();
        String masterFile;
        long masterPos;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show master status")) {
            if (!rs.next()) return;
            masterFile = rs.getString(1);
            masterPos = rs.getLong(2);
        }
        if (!masterFile.equals(file) || masterPos != shipped) return;
        durableAt = now;
        lagSeconds = 0.0;
        if (Duration.between(lastMarker, now).compareTo(MARKER_EVERY) < 0) return;
        BinlogChunk marker = new BinlogChunk(source.name(), file, shipped, shipped, null, null, false, now, 0, null, now);
        uploader.putSigned(marker.metaKey(), marker, lock(now));
        lastMarker = now;
    }

    /** Locked as long as a dump taken now, since every dump before it may need this log to reach a later time. */
    private LockState lock(Instant receivedAt) {
        Duration lock = config.dump().lock();
        return lock == null ? null : new LockState(receivedAt.plus(lock).plusSeconds(1), false);
    }

    public String source() {
        return source.name();
    }

    /** When the stored binary log was last known complete (a chunk stored, or the server found with nothing more); null: never. */
    public Instant durableAt() {
        return durableAt;
    }

    /** Whether mariadb-binlog runs and its output is being stored. */
    public boolean streaming() {
        return streaming;
    }

    private void report(boolean streaming, String error) {
        this.streaming = streaming;
        try {
            Instant now = clock.instant();
            ledger.recordBinlog(source.name(), streaming, file == null ? null : file + ":" + shipped, durableAt, lagSeconds, error,
                    error == null ? null : now, now);
        } catch (SQLException e) {
            LOG.warn("binary log stream of {}: cannot record its state: {}", source.name(), e.getMessage());
        }
    }

    private static List<String> binaryLogs(Statement s) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("show binary logs")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        if (out.isEmpty()) throw new SQLException("the server lists no binary log files");
        for (String f : out) if (!BinlogChunk.isFileName(f)) throw new SQLException("the server names a binary log \"" + f + "\", not a file name Bunker stores");
        return out;
    }

    /** The server id mariadb-binlog presents as a replica: fixed per source, far above the ids servers are usually given. */
    private int replicaId() {
        return 2_000_000_000 + Math.floorMod(source.name().hashCode(), 100_000_000);
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    @Override
    public void close() {
        stopping = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (child != null) child.destroy();
    }
}
