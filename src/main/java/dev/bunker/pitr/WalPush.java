package dev.bunker.pitr;

import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code wal: archive}: a finished WAL segment pushed by the source's archive_command ({@code bin/bunker wal push}), checked
 * to be the segment its name says (its first page's long header gives timeline, address, cluster and segment size) and
 * stored as one chunk in every backup store, as a streamed chunk would be. The push is answered only once the chunk's
 * metadata is in every store, so PostgreSQL recycles the segment only after that.
 */
public final class WalPush {
    private static final Logger LOG = LoggerFactory.getLogger(WalPush.class);
    /** The largest segment taken: a push is held in memory (PostgreSQL's default is 16 MiB, some services use 64 MiB). */
    public static final long MAX_SEGMENT_BYTES = 64L << 20;
    /** Pushes stored at once by this process; PostgreSQL's archiver sends one segment at a time per server. */
    static final int CONCURRENT = 2;
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int LONG_HEADER_BYTES = 40;

    private final BackupsConfig config;
    private final WalUploader uploader;
    private final WalLedger ledger;
    private final Clock clock;
    private final Semaphore slots = new Semaphore(CONCURRENT);

    public WalPush(BackupsConfig config, WalUploader uploader, WalLedger ledger, Clock clock) {
        this.config = config;
        this.uploader = uploader;
        this.ledger = ledger;
        this.clock = clock;
    }

    /** What was stored: the chunk and how long storing it took. */
    public record Pushed(WalChunk chunk, HistoryFile history, double seconds) {}

    /**
     * Stores the segment {@code file} of {@code source} read from {@code body} ({@code length} bytes). Refuses (a
     * {@link PitrException} that is the caller's fault, before anything is stored) a source that does not take pushes, a
     * name that is not a segment's, a length that is not a segment size, and bytes that are not that segment.
     */
    public Pushed push(String source, String file, InputStream body, long length) throws IOException {
        BackupSource s = config.sources().get(source);
        if (s == null || s.pitr() == null || !s.pitr().archive()) {
            throw new PitrException("source \"" + source + "\" does not take WAL pushes; configure backups.sources." + source
                    + ".pitr: {wal: archive}", true);
        }
        if (TimelineHistory.isFileName(file)) return pushHistory(s, file, body, length);
        if (!SEGMENT.matcher(file).matches()) {
            throw new PitrException("\"" + file + "\" is not a WAL segment's name (24 hex digits) or a timeline history's (00000002.history); "
                    + "bin/bunker wal push sends only those (backup-label and partial files are not kept)", true);
        }
        if (length < 0) throw new PitrException("send the segment with a Content-Length (curl -T does)", true);
        if (length < (1 << 20) || length > (1L << 30) || Long.bitCount(length) != 1) {
            throw new PitrException("a WAL segment is a power of two from 1 MiB to 1 GiB; " + file + " has " + length + " bytes", true);
        }
        if (length > MAX_SEGMENT_BYTES) {
            throw new PitrException("segments of " + (length >> 20) + " MiB are larger than wal push takes (" + (MAX_SEGMENT_BYTES >> 20)
                    + " MiB); use wal: stream for this server", true);
        }
        try {
            if (!slots.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new PitrException.Unavailable("busy: " + CONCURRENT + " pushes were being stored for a minute; PostgreSQL will push " + file + " again", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting to store " + file);
        }
        try {
            byte[] bytes = body.readNBytes((int) length);
            if (bytes.length != length) throw new PitrException(file + ": the body ended after " + bytes.length + " of " + length + " bytes", true);
            Header h = header(file, bytes);
            Instant received = clock.instant();
            long t0 = System.nanoTime();
            WalChunk chunk = uploader.upload(source, h.systemId(), h.timeline(), length, h.segmentStart(), bytes, bytes.length, received, null);
            double seconds = (System.nanoTime() - t0) / 1e9;
            LOG.info("WAL segment {} of {} stored in {} s", file, source, String.format("%.3f", seconds));
            record(source, chunk, received, seconds);
            return new Pushed(chunk, null, seconds);
        } finally {
            slots.release();
        }
    }

    /**
     * A timeline's history file, which a promoted server archives before its new timeline's segments: checked to be one, and
     * stored beside the WAL of the cluster the source's server is (history files do not name it, so the server is asked).
     */
    private Pushed pushHistory(BackupSource s, String file, InputStream body, long length) throws IOException {
        if (length < 0 || length > TimelineHistory.MAX_BYTES) {
            throw new PitrException("a timeline history file is at most " + (TimelineHistory.MAX_BYTES >> 10) + " KiB with a Content-Length; " + file
                    + " has " + length + " bytes; nothing was stored", true);
        }
        byte[] bytes = body.readNBytes((int) length);
        if (bytes.length != length) throw new PitrException(file + ": the body ended after " + bytes.length + " of " + length + " bytes", true);
        String content;
        try {
            content = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new PitrException(file + " is not text, as history files are; nothing was stored", true);
        }
        int timeline = Integer.parseInt(file.substring(0, 8), 16);
        TimelineHistory.parse(timeline, content);
        String systemId = systemIdOf(s);
        Instant received = clock.instant();
        long t0 = System.nanoTime();
        HistoryFile history = uploader.uploadHistory(s.name(), systemId, timeline, content, received);
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info("timeline history {} of {} (cluster {}) stored in {} s", file, s.name(), systemId, String.format("%.3f", seconds));
        return new Pushed(null, history, seconds);
    }

    private static String systemIdOf(BackupSource s) throws IOException {
        try (java.sql.Connection c = dev.bunker.backup.TakeBackup.connectToSource(dev.bunker.backup.Conninfo.parse(s.url(), s.user(), s.password()), s.name())) {
            return dev.bunker.backup.TakeBackup.systemIdentifier(c);
        } catch (SQLException e) {
            throw new PitrException.Unavailable("could not ask backup source '" + s.name() + "' which cluster it is (to store its timeline history): "
                    + e.getMessage() + "; PostgreSQL will push it again", null); // the source's failure, not Bunker's database's: no SQLException cause
        }
    }

    /** What a segment's first page says of it. */
    record Header(int timeline, long segmentStart, String systemId) {}

    /** The long header of the segment's first page, checked against its name and length. */
    static Header header(String file, byte[] bytes) throws PitrException {
        if (bytes.length < LONG_HEADER_BYTES) throw new PitrException(file + " is too short to be a WAL segment", true);
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, LONG_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int info = Short.toUnsignedInt(b.getShort(2));
        int timeline = b.getInt(4);
        long pageAddress = b.getLong(8);
        long systemId = b.getLong(24);
        long segmentSize = Integer.toUnsignedLong(b.getInt(32));
        int blockSize = b.getInt(36);
        if ((info & XLP_LONG_HEADER) == 0 || timeline <= 0 || pageAddress < 0 || blockSize < 1024 || blockSize > 65536 || Integer.bitCount(blockSize) != 1) {
            throw new PitrException(file + " does not start with a WAL segment's header; nothing was stored", true);
        }
        if (segmentSize != bytes.length) {
            throw new PitrException(file + " says its segments are " + segmentSize + " bytes but " + bytes.length + " were sent; nothing was stored", true);
        }
        // A new timeline's first segment begins with a copy of the old timeline's bytes, first page header included: its
        // header may name an older timeline than the file.
        int fileTimeline = Wal.timelineOf(file);
        String named;
        try {
            named = Wal.segmentName(fileTimeline, pageAddress, segmentSize);
        } catch (IllegalArgumentException e) {
            throw new PitrException(file + " has a header that names no segment (" + e.getMessage() + "); nothing was stored", true);
        }
        if (!named.equals(file) || pageAddress % segmentSize != 0 || timeline > fileTimeline) {
            throw new PitrException("the bytes sent as " + file + " are segment " + Wal.segmentName(timeline, pageAddress, segmentSize)
                    + "; nothing was stored", true);
        }
        return new Header(fileTimeline, pageAddress, Long.toUnsignedString(systemId));
    }

    private void record(String source, WalChunk chunk, Instant received, double seconds) {
        if (ledger == null) return;
        try {
            ledger.recordPush(source, chunk.end(), received, seconds, clock.instant());
        } catch (SQLException | RuntimeException e) {
            LOG.debug("could not record the WAL push of {}: {}", source, e.getMessage());
        }
    }
}
