package dev.bunker.clone;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import javax.sql.DataSource;

/** The runs of scheduled clones (table {@code clone_runs}): all of its SQL. */
final class CloneRuns {
    /** One run: {@code backupId} is null when it failed before a backup was chosen. */
    record Run(long id, String name, String backupId, String state, Instant startedAt, String error) {}

    static final String COLUMNS = "select id, name, backup_id, state, started_at, error from clone_runs";
    static final String LAST = COLUMNS + " where name = ? order by id desc limit 1";
    static final String LAST_DONE = COLUMNS + " where name = ? and state = 'done' order by id desc limit 1";
    static final String START = "insert into clone_runs (name, backup_id, state, started_at) values (?, ?, 'running', ?) returning id";
    static final String SKIPPED = "insert into clone_runs (name, backup_id, state, started_at, finished_at, error) values (?, ?, 'skipped', ?, ?, ?)";
    static final String FINISH = "update clone_runs set state = ?, finished_at = ?, error = ? where id = ?";

    private final DataSource db;

    CloneRuns(DataSource db) {
        this.db = db;
    }

    Optional<Run> last(String name) throws SQLException {
        return one(LAST, name);
    }

    Optional<Run> lastDone(String name) throws SQLException {
        return one(LAST_DONE, name);
    }

    long start(String name, String backupId, Instant now) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(START)) {
            ps.setString(1, name);
            ps.setString(2, backupId);
            ps.setTimestamp(3, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    void skipped(String name, String backupId, String why, Instant now) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(SKIPPED)) {
            ps.setString(1, name);
            ps.setString(2, backupId);
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setString(5, why);
            ps.executeUpdate();
        }
    }

    void finish(long id, String state, String error, Instant now) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(FINISH)) {
            ps.setString(1, state);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setString(3, error);
            ps.setLong(4, id);
            ps.executeUpdate();
        }
    }

    private Optional<Run> one(String sql, String name) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Run(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant(), rs.getString(6)));
            }
        }
    }
}
