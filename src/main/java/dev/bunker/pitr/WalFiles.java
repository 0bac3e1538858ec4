package dev.bunker.pitr;

import dev.bunker.backup.Manifest;
import dev.bunker.backup.PgTools;
import dev.bunker.store.Store;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Stored WAL made into segment files again, and what those files say about commit times. */
final class WalFiles {
    /** A commit or abort record, also of a prepared transaction ("COMMIT_PREPARED 742: 2026-..."): recovery targets stop at all four. */
    static final Pattern COMMIT = Pattern.compile(
            "lsn: ([0-9A-F]+/[0-9A-F]+),.*desc: (?:COMMIT|ABORT)(?:_PREPARED \\d+:)? (\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?) UTC");
    /** Where pg_waldump stopped: the last position its final error names, or the start of the segment it could not find. */
    private static final Pattern STOPPED_AT = Pattern.compile("at ([0-9A-F]+/[0-9A-F]+)");
    private static final Pattern MISSING_SEGMENT = Pattern.compile("could not find file \"([0-9A-F]{24})\"");
    private static final Pattern MAJOR = Pattern.compile("PostgreSQL (\\d+)");

    private WalFiles() {}

    /**
     * Downloads every chunk (each from the first store that has it whole: SHA-256 and size as its signed metadata says,
     * then decrypted and decompressed to exactly its range) into its segment file in {@code dir}, zeros after the last byte
     * stored, as PostgreSQL leaves a partial segment. Returns the number of segment files.
     */
    static int assemble(List<WalChunk> chunks, Map<String, Store> stores, List<String> order, List<String> identities, Path dir,
                        Consumer<String> progress) throws IOException {
        int segments = 0;
        for (WalChunk c : chunks) { // every segment file first, so the downloads below only write into them
            Path file = dir.resolve(c.segment());
            if (Files.exists(file)) continue;
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(c.segmentSize());
            }
            segments++;
        }
        // Two at a time: one chunk's download and decryption beside another's decompression and write.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "wal-download");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        try {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (WalChunk c : chunks) {
                futures.add(pool.submit(() -> {
                    byte[] bytes = download(c, stores, order, identities);
                    Path file = dir.resolve(c.segment());
                    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                        f.seek(c.startLsn() - Wal.segmentStart(c.segment(), c.segmentSize()));
                        f.write(bytes);
                    } catch (IOException full) {
                        throw new dev.bunker.backup.LocalWriteException(file, full); // this machine's disk, not the stored WAL
                    }
                    int n = done.incrementAndGet();
                    if (n % 50 == 0 || n == chunks.size()) {
                        synchronized (progress) {
                            progress.accept("WAL: " + n + " of " + chunks.size() + " chunks");
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : futures) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) throw io;
                    throw new IOException(e.getCause().getMessage(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while downloading WAL");
                }
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(60, TimeUnit.SECONDS); // nothing writes into the folder once the caller removes it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return segments;
    }

    private static byte[] download(WalChunk c, Map<String, Store> stores, List<String> order, List<String> identities) throws IOException {
        List<String> problems = new ArrayList<>();
        byte[] bytes = SealedChunks.read(c.dataKey(), c.size(), c.sha256(), (int) (c.endLsn() - c.startLsn()), stores, order, identities, problems);
        if (bytes != null) return bytes;
        throw new PitrException("WAL chunk " + c.name() + " (segment " + c.segment() + ", " + c.start() + " to " + c.end() + ") of " + c.source()
                + " is missing or corrupt in every backup store: " + String.join("; ", problems) + "; nothing was restored. Times before "
                + c.start() + " may still be restorable from an older base backup's WAL only if they do not need this segment");
    }

    /** The segment size of the files in {@code dir} (they are all one cluster's, of one size). */
    private static long segmentSizeOf(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> Wal.isSegmentName(f.getFileName().toString())).findFirst().orElseThrow(
                    () -> new IOException("no WAL segment in " + dir)).toFile().length();
        }
    }

    /** The PostgreSQL major version that took the base backup. */
    static int major(Manifest base) throws IOException {
        Matcher major = MAJOR.matcher(base.serverVersion() == null ? "" : base.serverVersion());
        if (!major.find()) throw new IOException("base backup " + base.id() + " does not say which PostgreSQL version took it");
        return Integer.parseInt(major.group(1));
    }

    /**
     * The last commit (or abort) at or before the target, its LSN, the time and LSN of the first after it (null: none in the
     * WAL), and where pg_waldump stopped reading (the end of the stored WAL, or a damaged record before it; the first commit
     * after the target when there is one, since reading stops there).
     */
    record Commits(Instant lastBefore, String lastBeforeLsn, Instant firstAfter, long firstAfterLsn, long stoppedAt) {}

    /**
     * Reads the commit records of the segments in {@code dir} from {@code walStart} to {@code walEnd} (where the stored WAL
     * ends: without it pg_waldump, finding no segment after the last, waits 5 s for one to appear), with pg_waldump of
     * the backup's major version.
     */
    static Commits commits(Path dir, Manifest base, int timeline, long walStart, long walEnd, RecoveryTarget target, Path pgBin) throws IOException {
        Path waldump = PgTools.find("pg_waldump", major(base), pgBin);
        long consistent = Wal.parseLsn(base.wal().end());
        Path errors = dir.resolveSibling("pg_waldump.err");
        ProcessBuilder pb = new ProcessBuilder(waldump.toString(), "-p", dir.toString(), "-t", Integer.toString(timeline),
                "-s", Wal.formatLsn(walStart), "-e", Wal.formatLsn(walEnd), "-r", "Transaction").redirectError(errors.toFile());
        pb.environment().put("TZ", "UTC");
        Process p = pb.start();
        Instant lastBefore = null;
        String lastBeforeLsn = null;
        Instant firstAfter = null;
        long firstAfterLsn = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                Matcher m = COMMIT.matcher(line);
                if (!m.find()) continue;
                Instant at = Instant.parse(m.group(2) + "T" + m.group(3) + "Z");
                long lsn = Wal.parseLsn(m.group(1));
                if (target.keeps(at, lsn)) {
                    lastBefore = at;
                    lastBeforeLsn = m.group(1);
                } else if (firstAfter == null && lsn >= consistent) {
                    firstAfter = at;
                    firstAfterLsn = lsn;
                    break; // the recovery target is decided: the rest of the WAL need not be read
                }
            }
            if (firstAfter != null) return new Commits(lastBefore, lastBeforeLsn, firstAfter, firstAfterLsn, firstAfterLsn);
            if (!p.waitFor(60, TimeUnit.SECONDS)) throw new IOException("pg_waldump did not exit after its output ended");
            if (p.exitValue() == 0) return new Commits(lastBefore, lastBeforeLsn, null, -1, walEnd); // read to the end of the stored WAL
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the WAL with pg_waldump", e);
        } finally {
            p.destroyForcibly();
        }
        // Short of the end: a damaged record, or the zeros after the stored WAL when a chunk ends before walEnd says.
        String err = Files.exists(errors) ? Files.readString(errors).strip() : "";
        long stoppedAt = -1;
        Matcher missing = MISSING_SEGMENT.matcher(err);
        if (missing.find()) stoppedAt = Wal.segmentStart(missing.group(1), segmentSizeOf(dir));
        Matcher at = STOPPED_AT.matcher(err);
        while (at.find()) stoppedAt = Math.max(stoppedAt, Wal.parseLsn(at.group(1)));
        if (stoppedAt < 0) throw new IOException("pg_waldump could not read the stored WAL from " + Wal.formatLsn(walStart) + ": " + err);
        return new Commits(lastBefore, lastBeforeLsn, firstAfter, firstAfterLsn, stoppedAt);
    }
}
