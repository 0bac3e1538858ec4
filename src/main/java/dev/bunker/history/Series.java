package dev.bunker.history;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The dashboard's time series: key figures sampled every minute into Bunker's own database (not memory, so a chart
 * survives a restart and every serve sharing the database shows the same history). All of the {@code series} table's SQL.
 */
public final class Series {
    /** One figure's samples, oldest first: times in epoch seconds and values, as a chart takes them. */
    public record Line(List<Long> at, List<Double> values) {}

    static final String INSERT = "insert into series (name, at, value) values (?, ?, ?) on conflict (name, at) do nothing";
    /** At most this many points per figure in one answer: samples are merged into buckets (the largest value of each). */
    public static final int MAX_POINTS = 1440;

    // The largest value of a bucket: the peak of a gauge (queue, lag), the newest reading of a running total (copied.*).
    static final String SINCE = """
            select name, to_timestamp(floor(extract(epoch from at) / ?) * ?) as bucket, max(value)
              from series where at >= ? group by name, bucket order by name, bucket
            """;
    static final String PRUNE = "delete from series where at < ?";

    private final DataSource db;

    public Series(DataSource db) {
        this.db = db;
    }

    /**
     * Records {@code figures} at {@code at} in one transaction; a figure already recorded at that time (another serve
     * sampled first) is kept as it is.
     */
    public void record(Instant at, Map<String, Double> figures) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            c.setAutoCommit(false);
            try {
                for (Map.Entry<String, Double> f : figures.entrySet()) {
                    if (f.getValue() == null || f.getValue().isNaN() || f.getValue().isInfinite()) continue;
                    ps.setString(1, f.getKey());
                    ps.setTimestamp(2, Timestamp.from(at));
                    ps.setDouble(3, f.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /**
     * Every figure's samples from {@code from} to {@code now}, by name, in buckets of at least {@code step} (the sampling
     * period), wider when needed to keep each figure to {@link #MAX_POINTS}.
     */
    public Map<String, Line> since(Instant from, Instant now, java.time.Duration step) throws SQLException {
        double bucket = Math.max(step.toMillis() / 1000.0, java.time.Duration.between(from, now).toMillis() / 1000.0 / (MAX_POINTS - 1));
        Map<String, Line> out = new LinkedHashMap<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(SINCE)) {
            ps.setDouble(1, bucket);
            ps.setDouble(2, bucket);
            ps.setTimestamp(3, Timestamp.from(from));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Line l = out.computeIfAbsent(rs.getString(1), n -> new Line(new ArrayList<>(), new ArrayList<>()));
                    l.at().add(rs.getTimestamp(2).toInstant().getEpochSecond());
                    l.values().add(rs.getDouble(3));
                }
            }
        }
        return out;
    }

    /** Removes samples older than {@code before}; returns how many. */
    public int prune(Instant before) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(PRUNE)) {
            ps.setTimestamp(1, Timestamp.from(before));
            return ps.executeUpdate();
        }
    }
}
