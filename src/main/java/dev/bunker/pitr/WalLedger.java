package dev.bunker.pitr;

import dev.bunker.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The {@code wal_streams} table: each source's streaming as its streaming process last reported it. */
public final class WalLedger {
    static final String RECORD = """
            insert into wal_streams (source, mode, slot, streaming, durable_lsn, durable_at, lag_seconds, retained_bytes, last_error, error_at, updated_at,
                                     system_id)
            values (?, 'stream', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            on conflict (source) do update set mode = 'stream', slot = excluded.slot, system_id = coalesce(excluded.system_id, wal_streams.system_id), streaming = excluded.streaming, durable_lsn = excluded.durable_lsn,
                durable_at = excluded.durable_at, lag_seconds = excluded.lag_seconds, retained_bytes = excluded.retained_bytes,
                last_error = excluded.last_error, error_at = excluded.error_at, updated_at = excluded.updated_at
            """;
    /** A segment pushed by the source's archive_command: stored up to {@code durable_lsn}, received at {@code durable_at}. */
    static final String PUSHED = """
            insert into wal_streams (source, mode, slot, streaming, durable_lsn, durable_at, lag_seconds, updated_at)
            values (?, 'archive', null, false, ?, ?, ?, ?)
            on conflict (source) do update set mode = 'archive', slot = null, streaming = false, durable_lsn = excluded.durable_lsn,
                durable_at = greatest(wal_streams.durable_at, excluded.durable_at), lag_seconds = excluded.lag_seconds, retained_bytes = null, updated_at = excluded.updated_at
            """;
    /** What the server of a source with wal: archive said of its archiving; durable_at only moves forward. */
    static final String ARCHIVE_CHECK = """
            insert into wal_streams (source, mode, slot, streaming, durable_at, last_error, error_at, updated_at)
            values (?, 'archive', null, false, ?, ?, ?, ?)
            on conflict (source) do update set mode = 'archive', slot = null, streaming = false,
                durable_at = greatest(wal_streams.durable_at, excluded.durable_at), last_error = excluded.last_error,
                error_at = excluded.error_at, updated_at = excluded.updated_at
            """;
    /** A MariaDB source's binary log stream: stored through {@code durable_lsn} (FILE:POSITION), at {@code durable_at}. */
    static final String BINLOG = """
            insert into wal_streams (source, mode, slot, streaming, durable_lsn, durable_at, lag_seconds, last_error, error_at, updated_at)
            values (?, 'binlog', null, ?, ?, ?, ?, ?, ?, ?)
            on conflict (source) do update set mode = 'binlog', slot = null, streaming = excluded.streaming,
                durable_lsn = coalesce(excluded.durable_lsn, wal_streams.durable_lsn),
                durable_at = greatest(wal_streams.durable_at, excluded.durable_at), lag_seconds = excluded.lag_seconds,
                last_error = excluded.last_error, error_at = excluded.error_at, updated_at = excluded.updated_at
            """;
    /** A gap: the stream resumed at {@code gap_to}, past {@code gap_from} where the stored WAL ended. */
    static final String GAP = "update wal_streams set gap_from = ?, gap_to = ?, gap_at = ? where source = ?";
    static final String ALL = """
            select source, slot, streaming, durable_lsn, durable_at, lag_seconds, retained_bytes, last_error, error_at, updated_at, mode,
                   system_id, gap_from, gap_to, gap_at
              from wal_streams order by source
            """;

    /**
     * One source's row; {@code archive}: its WAL is pushed by the server's archive_command (no slot, no stream);
     * {@code systemId}: the cluster the stored WAL is of; {@code gapFrom} to {@code gapTo}: WAL never stored (null: none),
     * found at {@code gapAt}; {@code binlog}: a MariaDB source's binary log ({@code durableLsn} is FILE:POSITION).
     */
    public record Row(String source, String slot, boolean streaming, String durableLsn, Instant durableAt, Double lagSeconds, Long retainedBytes,
                      String lastError, Instant errorAt, Instant updatedAt, boolean archive, String systemId, String gapFrom, String gapTo,
                      Instant gapAt, boolean binlog) {}

    private final DataSource db;

    public WalLedger(DataSource db) {
        this.db = db;
    }

    void record(WalStatus.Snapshot s, Instant now) throws SQLException {
        try (Connection c = db.getConnection()) {
            Sql.update(c, RECORD, s.source(), s.slot(), s.streaming(), s.durableLsn(), ts(s.durableAt()), s.lagSeconds(), s.retainedBytes(),
                    s.lastError(), ts(s.lastErrorAt()), Timestamp.from(now), s.systemId());
        }
    }

    /** The row of {@code source}, if any process recorded one. */
    public Row row(String source) throws SQLException {
        for (Row r : list()) if (r.source().equals(source)) return r;
        return null;
    }

    /** What a binary log stream reports: streaming or not, stored through {@code position} at {@code durableAt}, its last error. */
    public void recordBinlog(String source, boolean streaming, String position, Instant durableAt, Double lagSeconds, String error, Instant errorAt,
                             Instant now) throws SQLException {
        try (Connection c = db.getConnection()) {
            Sql.update(c, BINLOG, source, streaming, position, ts(durableAt), lagSeconds, error, ts(errorAt), Timestamp.from(now));
        }
    }

    public void recordGap(String source, String from, String to, Instant at) throws SQLException {
        try (Connection c = db.getConnection()) {
            Sql.update(c, GAP, from, to, Timestamp.from(at), source);
        }
    }

    void recordPush(String source, String durableLsn, Instant receivedAt, double seconds, Instant now) throws SQLException {
        try (Connection c = db.getConnection()) {
            Sql.update(c, PUSHED, source, durableLsn, Timestamp.from(receivedAt), seconds, Timestamp.from(now));
        }
    }

    void recordArchiveCheck(String source, Instant storedThrough, String problem, Instant problemAt, Instant now) throws SQLException {
        try (Connection c = db.getConnection()) {
            Sql.update(c, ARCHIVE_CHECK, source, ts(storedThrough), problem, ts(problemAt), Timestamp.from(now));
        }
    }

    public List<Row> list() throws SQLException {
        List<Row> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ALL); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Row(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getString(4), Sql.instant(rs, 5),
                        (Double) rs.getObject(6), (Long) rs.getObject(7), rs.getString(8), Sql.instant(rs, 9), Sql.instant(rs, 10), "archive".equals(rs.getString(11)),
                        rs.getString(12), rs.getString(13), rs.getString(14), Sql.instant(rs, 15), "binlog".equals(rs.getString(11))));
            }
        }
        return out;
    }

    private static Timestamp ts(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }
}
