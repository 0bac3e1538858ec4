package dev.bunker.drill;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.bunker.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The record of every drill: what it used, how it went, each check's verdict. All its SQL is here. */
public final class DrillRuns {
    /** One check of a drill and its verdict. */
    public record Check(String name, boolean ok, String detail) {}

    /** One drill run. {@code backupAgeSeconds} is the achieved RPO, {@code restoreSeconds} the achieved RTO. */
    public record Run(long id, String kind, Instant startedAt, Instant finishedAt, boolean ok, String backupId, Double backupAgeSeconds,
                      Double restoreSeconds, List<Check> checks, String log) {}

    static final String INSERT = """
            insert into drill_runs (kind, started_at, finished_at, ok, backup_id, backup_age_seconds, restore_seconds, checks, log)
            values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) returning id
            """;
    static final String HISTORY = """
            select id, kind, started_at, finished_at, ok, backup_id, backup_age_seconds, restore_seconds, checks::text, log
              from drill_runs where (?::text is null or kind = ?) order by finished_at desc, id desc limit ?
            """;
    static final String LAST_SUCCESS = "select max(finished_at) from drill_runs where kind = ? and ok";

    private final DataSource db;

    public DrillRuns(DataSource db) {
        this.db = db;
    }

    public Run record(Run r) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setString(1, r.kind());
            ps.setTimestamp(2, Timestamp.from(r.startedAt()));
            ps.setTimestamp(3, Timestamp.from(r.finishedAt()));
            ps.setBoolean(4, r.ok());
            ps.setString(5, r.backupId());
            if (r.backupAgeSeconds() == null) ps.setNull(6, Types.DOUBLE);
            else ps.setDouble(6, r.backupAgeSeconds());
            if (r.restoreSeconds() == null) ps.setNull(7, Types.DOUBLE);
            else ps.setDouble(7, r.restoreSeconds());
            ps.setString(8, Json.MAPPER.writeValueAsString(r.checks()));
            ps.setString(9, r.log());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Run(rs.getLong(1), r.kind(), r.startedAt(), r.finishedAt(), r.ok(), r.backupId(), r.backupAgeSeconds(),
                        r.restoreSeconds(), r.checks(), r.log());
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Newest first; {@code kind} null for all kinds. */
    public List<Run> history(String kind, int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(HISTORY)) {
            ps.setString(1, kind);
            ps.setString(2, kind);
            ps.setInt(3, limit);
            List<Run> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<Check> checks = Json.MAPPER.readValue(rs.getString(9), new TypeReference<List<Check>>() {});
                    out.add(new Run(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getTimestamp(4).toInstant(), rs.getBoolean(5),
                            rs.getString(6), (Double) rs.getObject(7), (Double) rs.getObject(8), checks, rs.getString(10)));
                }
            }
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public Instant lastSuccess(String kind) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(LAST_SUCCESS)) {
            ps.setString(1, kind);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1) == null ? null : rs.getTimestamp(1).toInstant();
            }
        }
    }
}
