package dev.bunker.pitr;

import dev.bunker.backup.Conninfo;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams one source's WAL into the backup stores, for as long as it runs: through a physical replication slot (created
 * at the first start), so the server keeps every byte until Bunker reports it durable in every backup store. Bytes are
 * collected per segment and handed to {@link WalUploader} when the oldest of them is {@code flush-every} old or the
 * segment is full; only then does the slot move on. A lost connection, a store that fails or a restart of either side
 * resumes at the slot's position: nothing is skipped, at worst a range is uploaded twice (chunks may overlap).
 */
public final class WalStream implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WalStream.class);

    private final BackupSource source;
    private final BackupsConfig config;
    private final WalUploader uploader;
    private final Clock clock;
    private final WalStatus status;
    private final Reporter reporter;
    private final NewTimeline newTimeline;
    private volatile boolean stopping;
    private volatile boolean abandoned;

    /** Told every change of the status (to record it where other processes see it); must not throw. */
    @FunctionalInterface
    public interface Reporter {
        void report(WalStatus.Snapshot status);

        /** Where the stored WAL of {@code source} ended, as any process last recorded it (null: not known). */
        default WalLedger.Row previous(String source) {
            return null;
        }

        /** The stream resumes at {@code to}, past {@code from} where the stored WAL ended: that WAL is lost to Bunker. */
        default void gap(String source, String from, String to, Instant at) {}
    }

    public WalStream(BackupSource source, BackupsConfig config, WalUploader uploader, Clock clock, Reporter reporter) {
        this.reporter = reporter;
        this.source = source;
        this.config = config;
        this.uploader = uploader;
        this.clock = clock;
        this.status = new WalStatus(source.name(), source.pitr().slot());
        this.newTimeline = new NewTimeline(source.name(), uploader, clock);
    }

    public WalStatus status() { return status; }

    public void stop() {
        stopping = true;
    }

    /** Stops as a killed process would: what the buffer holds is dropped and the connection cut (for tests of what a restart recovers). */
    void abandon() {
        abandoned = true;
        stopping = true;
    }

    /**
     * Streams until {@link #stop}, reconnecting after a failure (1 s, doubling to 30 s). While another process streams the
     * source (its slot is in use), this one stands by and tries again every 30 s.
     */
    @Override
    public void run() {
        long backoffMs = 1000;
        while (!stopping) {
            try {
                streamOnce();
                backoffMs = 1000;
            } catch (Exception e) {
                if (stopping) break;
                if (e.getMessage() != null && e.getMessage().contains("is active for PID")) {
                    if (!status.snapshot().standby()) {
                        LOG.info("WAL of {}: slot {} is in use (another process streams it, or the server has not yet noticed that this process's "
                                + "last connection ended); trying again every 30 s", source.name(), source.pitr().slot());
                    }
                    status.standby();
                    sleep(30_000);
                    continue;
                }
                status.failed(e.getMessage(), clock.instant());
                reporter.report(status.snapshot());
                LOG.warn("WAL streaming of {} stopped, retrying in {} s: {}", source.name(), backoffMs / 1000, e.getMessage());
                sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 30_000);
            }
        }
    }

    /** The position and layout of the source's WAL, and where the slot says streaming resumes. */
    record Start(long lsn, int timeline, long segmentSize, Long retainedBytes, String systemId) {}

    /** Connects, checks the role, creates the slot if it is missing, and streams until stopped or broken. */
    void streamOnce() throws Exception {
        Conninfo conn = Conninfo.parse(source.url(), source.user(), source.password());
        try (Connection db = dev.bunker.backup.TakeBackup.connectToSource(conn, source.name());
             Connection replication = replicationConnection(conn)) {
            Start start = prepare(db);
            // From the segment's first byte, as pg_receivewal does: every stored segment then starts with its own header, and
            // the server still has it (a slot keeps whole segments).
            long from = start.lsn() - start.lsn() % start.segmentSize();
            long slotFrom = from;
            if (start.timeline() > 1) from = newTimeline.from(replication, start, from);
            PGReplicationStream stream = startStream(replication, from);
            checkGap(start, from);
            status.streaming(Wal.formatLsn(from), clock.instant(), start.retainedBytes(), start.systemId());
            reporter.report(status.snapshot());
            LOG.info("streaming WAL of {} from {} on timeline {} through slot {}", source.name(), Wal.formatLsn(from), start.timeline(),
                    source.pitr().slot());
            Session session = new Session(stream, db, start, new SegmentBuffer(start.segmentSize(), from));
            try {
                pump(session);
            } catch (SQLException e) {
                newTimeline.failed(e, start, from, slotFrom); // walsender says a segment is gone once streaming began, not at the start
                throw e;
            }
            if (abandoned) return;
            flush(session); // a clean stop leaves nothing behind that a restart would have to fetch again
            stream.close();
        }
    }

    private PGReplicationStream startStream(Connection replication, long from) throws SQLException {
        return replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().physical()
                .withSlotName(source.pitr().slot()).withStartPosition(LogSequenceNumber.valueOf(from))
                .withStatusInterval(10, TimeUnit.SECONDS).start();
    }

    /**
     * A stream that resumes past where the stored WAL of the same cluster ended (its slot was dropped, or lost WAL to
     * max_slot_wal_keep_size, and was made again) leaves WAL no restore can cross: said in the log and recorded for the
     * wal-gap alert.
     */
    private void checkGap(Start start, long from) {
        String stored = status.snapshot().durableLsn();
        String cluster = status.snapshot().systemId();
        if (stored == null) {
            WalLedger.Row before = reporter.previous(source.name());
            if (before == null || before.archive()) return;
            stored = before.durableLsn();
            cluster = before.systemId();
        }
        if (stored == null || !start.systemId().equals(cluster) || from <= Wal.parseLsn(stored)) return;
        LOG.warn("WAL of {} resumes at {} but the stored WAL ends at {} (the slot {} was made again): that WAL is lost to Bunker and no restore "
                + "crosses it; times after it restore from a base backup taken after it (bunker db backup --kind base --source {})", source.name(),
                Wal.formatLsn(from), stored, source.pitr().slot(), source.name());
        reporter.gap(source.name(), stored, Wal.formatLsn(from), clock.instant());
    }

    /** One connection's streaming: the stream, a plain connection to ask the source where its WAL ends, and what is not yet stored. */
    private record Session(PGReplicationStream stream, Connection db, Start start, SegmentBuffer buffer) {}

    private void pump(Session s) throws Exception {
        long flushEveryNanos = source.pitr().flushEvery().toNanos();
        long lastStored = System.nanoTime();
        while (!stopping) {
            ByteBuffer msg = s.stream().readPending();
            if (msg == null) {
                if (s.buffer().oldestAgeNanos() >= flushEveryNanos) {
                    flush(s);
                    lastStored = System.nanoTime();
                } else if (s.buffer().isEmpty() && System.nanoTime() - lastStored >= QUIET_MARK_EVERY.toNanos()) {
                    markIfQuiet(s);
                    lastStored = System.nanoTime();
                }
                Thread.sleep(10);
                continue;
            }
            long end = s.stream().getLastReceiveLSN().asLong();
            long at = end - msg.remaining();
            if (at != s.buffer().end()) {
                throw new IllegalStateException("the server sent WAL from " + Wal.formatLsn(at) + " where " + Wal.formatLsn(s.buffer().end())
                        + " was expected; reconnecting");
            }
            while (msg.hasRemaining()) {
                s.buffer().append(msg);
                if (s.buffer().segmentFull()) flush(s);
            }
            if (s.buffer().oldestAgeNanos() >= flushEveryNanos) {
                flush(s);
                lastStored = System.nanoTime();
            }
        }
    }

    /** How often a quiet source gets a marker saying it wrote nothing since, so a restore to a time in the quiet knows it may. */
    static final Duration QUIET_MARK_EVERY = Duration.ofSeconds(30);

    /** Uploads what the buffer holds (if anything), then tells the server it may let go of it. */
    private void flush(Session s) throws Exception {
        SegmentBuffer buffer = s.buffer();
        if (buffer.isEmpty()) return;
        Instant completeThrough = sourceNow(s.db()).nothingWrittenPast(buffer.end(), s.start().segmentSize());
        Instant receivedAt = clock.instant();
        WalChunk chunk = uploader.upload(source.name(), s.start().systemId(), s.start().timeline(), s.start().segmentSize(), buffer.start(), buffer.bytes(),
                buffer.length(), receivedAt, completeThrough);
        long durable = buffer.end();
        Duration waited = Duration.ofNanos(buffer.oldestAgeNanos());
        buffer.clear();
        s.stream().setFlushedLSN(LogSequenceNumber.valueOf(durable));
        s.stream().setAppliedLSN(LogSequenceNumber.valueOf(durable));
        s.stream().forceUpdateStatus();
        status.durable(Wal.formatLsn(durable), receivedAt, waited, chunk.endLsn() - chunk.startLsn());
        reporter.report(status.snapshot());
    }

    private void markIfQuiet(Session s) throws Exception {
        long at = s.buffer().end();
        Instant completeThrough = sourceNow(s.db()).nothingWrittenPast(at, s.start().segmentSize());
        if (completeThrough == null) return; // it is writing: the chunks will say so
        Instant now = clock.instant();
        uploader.mark(source.name(), s.start().systemId(), s.start().timeline(), s.start().segmentSize(), at, now, completeThrough);
        status.quiet(now);
        reporter.report(status.snapshot());
    }

    /** The source's clock, where it is inserting WAL, and how much WAL it keeps for the slot, at one moment. */
    private record SourceNow(Instant clock, long insertLsn, Long retainedBytes) {
        /**
         * The source's clock, if it had inserted no WAL past {@code end} (null if it had). A commit takes its timestamp just
         * before inserting its record, so the answer is moved back 100 ms for one that was between the two.
         */
        Instant nothingWrittenPast(long end, long segmentSize) {
            // At a page boundary the insert position points just past the next page's header (long at a segment's start),
            // which holds no record.
            long header = end % segmentSize == 0 ? 40 : 24;
            boolean caughtUp = end >= insertLsn || (end % 8192 == 0 && insertLsn - end == header);
            return caughtUp ? clock.minusMillis(100) : null;
        }
    }

    private SourceNow sourceNow(Connection db) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select clock_timestamp(), pg_current_wal_insert_lsn(), (select pg_wal_lsn_diff("
                + "pg_current_wal_lsn(), restart_lsn)::bigint from pg_replication_slots where slot_name = ?)")) {
            ps.setString(1, source.pitr().slot());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                SourceNow now = new SourceNow(rs.getTimestamp(1).toInstant(), Wal.parseLsn(rs.getString(2)), (Long) rs.getObject(3));
                status.retained(now.retainedBytes());
                return now;
            }
        }
    }

    /**
     * Checks the role (REPLICATION; a superuser only when allowed), reads the segment size and timeline, and finds the
     * slot's position, creating the slot (reserving WAL from now) at the first start.
     */
    Start prepare(Connection db) throws SQLException {
        String slot = source.pitr().slot();
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("select rolsuper, rolreplication, current_user from pg_roles where rolname = current_user")) {
            if (rs.next()) {
                if (rs.getBoolean(1) && !config.allowSuperuser()) {
                    throw new SQLException("backup source '" + source.name() + "' connects as " + rs.getString(3) + ", a superuser; stream WAL with "
                            + "a role that has only REPLICATION (create role backup login replication;) or set backups.allow-superuser: true");
                }
                if (!rs.getBoolean(1) && !rs.getBoolean(2)) {
                    throw new SQLException("backup source '" + source.name() + "' connects as " + rs.getString(3) + ", which may not stream WAL: "
                            + "alter role " + rs.getString(3) + " replication; and allow it a replication connection in the server's pg_hba.conf "
                            + "(host replication " + rs.getString(3) + " BUNKER-HOST/32 scram-sha-256)");
                }
            }
        }
        long segmentSize;
        int timeline;
        String systemId;
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("select (select setting::bigint from pg_settings where name = 'wal_segment_size'), "
                     + "pg_walfile_name(pg_current_wal_lsn()), (select system_identifier::text from pg_control_system())")) {
            rs.next();
            segmentSize = rs.getLong(1);
            timeline = Wal.timelineOf(rs.getString(2));
            systemId = rs.getString(3);
        }
        Long restart = slotPosition(db, slot);
        if (restart == null) {
            try (PreparedStatement ps = db.prepareStatement("select pg_create_physical_replication_slot(?, true)")) {
                ps.setString(1, slot);
                ps.execute();
            }
            LOG.info("created the physical replication slot {} on backup source {}", slot, source.name());
            restart = slotPosition(db, slot);
            if (restart == null) throw new SQLException("the replication slot " + slot + " was created but holds no WAL position");
        }
        return new Start(restart, timeline, segmentSize, sourceNow(db).retainedBytes(), systemId);
    }

    private Long slotPosition(Connection db, String slot) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select slot_type, restart_lsn, wal_status from pg_replication_slots where slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                if (!rs.getString(1).equals("physical")) {
                    throw new SQLException("replication slot " + slot + " on backup source '" + source.name() + "' is a " + rs.getString(1)
                            + " slot, not one Bunker made; set backups.sources." + source.name() + ".pitr.slot to another name");
                }
                if ("lost".equals(rs.getString(3))) {
                    throw new SQLException("replication slot " + slot + " on backup source '" + source.name() + "' lost WAL Bunker had not yet "
                            + "stored (the server's max_slot_wal_keep_size): the WAL has a gap. Drop the slot (select pg_drop_replication_slot('"
                            + slot + "')), let Bunker create it again and take a base backup (bunker db backup --kind base --source " + source.name() + ")");
                }
                String lsn = rs.getString(2);
                return lsn == null ? null : Wal.parseLsn(lsn);
            }
        }
    }

    private Connection replicationConnection(Conninfo conn) throws SQLException {
        Properties p = new Properties();
        if (conn.user() != null) PGProperty.USER.set(p, conn.user());
        if (conn.password() != null) PGProperty.PASSWORD.set(p, conn.password());
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.CONNECT_TIMEOUT.set(p, 10);
        PGProperty.APPLICATION_NAME.set(p, "bunker wal " + source.name());
        try {
            return DriverManager.getConnection(conn.jdbcUrl(), p);
        } catch (SQLException e) {
            throw new SQLException("unable to open a replication connection to backup source '" + source.name() + "' at " + conn + ": "
                    + e.getMessage() + "; the server's pg_hba.conf needs a line for it (host replication " + conn.user() + " BUNKER-HOST/32 "
                    + "scram-sha-256) and max_wal_senders must leave one free", e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
