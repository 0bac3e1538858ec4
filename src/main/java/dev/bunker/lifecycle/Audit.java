package dev.bunker.lifecycle;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The audit log: every trash, restore, permanent delete, hold release, purge and brake event, with its actor. */
public final class Audit {
    /** One audit record. */
    public record Entry(long id, Instant at, String actor, String action, String key, String detail) {}

    static final String INSERT = "insert into audit_log (at, actor, action, key, detail) values (?, ?, ?, ?, ?)";
    static final String FOR_KEY = "select id, at, actor, action, key, detail from audit_log where key = ? order by id";
    static final String RECENT = "select id, at, actor, action, key, detail from audit_log order by id desc limit ?";

    private final DataSource db;

    public Audit(DataSource db) {
        this.db = db;
    }

    static void record(Connection c, Instant at, String actor, String action, String key, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, actor);
            ps.setString(3, action);
            ps.setString(4, key);
            ps.setString(5, detail);
            ps.executeUpdate();
        }
    }

    public List<Entry> forKey(String key) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(FOR_KEY)) {
            ps.setString(1, key);
            return read(ps);
        }
    }

    public List<Entry> recent(int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RECENT)) {
            ps.setInt(1, limit);
            return read(ps);
        }
    }

    private static List<Entry> read(PreparedStatement ps) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Entry(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6)));
            }
        }
        return out;
    }
}
