package dev.bunker.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A PostgreSQL session advisory lock that lets one process of many do a job at a time (the lifecycle,
 * a source's backup, alert evaluation). Held on one connection for the length of the job; a process
 * that dies releases it with its connection.
 */
public final class AdvisoryLock {
    static final String TRY = "select pg_try_advisory_lock(hashtext(?), hashtext(?))";
    static final String UNLOCK = "select pg_advisory_unlock(hashtext(?), hashtext(?))";

    /** The job done while holding the lock. */
    @FunctionalInterface
    public interface Job<T> {
        T run() throws SQLException;
    }

    private AdvisoryLock() {}

    /** Runs {@code job} if no other session holds the lock {@code name}/{@code subject}; empty if one does. */
    public static <T> Optional<T> tryWith(DataSource db, String name, String subject, Job<T> job) throws SQLException {
        try (Connection c = db.getConnection()) {
            if (!call(c, TRY, name, subject)) return Optional.empty();
            try {
                return Optional.ofNullable(job.run());
            } finally {
                call(c, UNLOCK, name, subject);
            }
        }
    }

    private static boolean call(Connection c, String sql, String name, String subject) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            ps.setString(2, subject);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
