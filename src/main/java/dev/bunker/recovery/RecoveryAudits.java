package dev.bunker.recovery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The monthly recovery audit: a record that a person went through the runbook ({@code bunker dr audit}, or the
 * dashboard's button). All of the {@code dr_audits} table's SQL.
 */
public final class RecoveryAudits {
    /** One audit: when, by whom (as they gave their name), their note, and the API token it came through (null from the CLI). */
    public record Audit(long id, Instant at, String by, String note, String token) {}

    public static final int MAX_NAME = 200;
    public static final int MAX_NOTE = 4000;

    static final String INSERT = "insert into dr_audits (at, by_name, note, token_name) values (?, ?, ?, ?) returning id";
    static final String RECENT = "select id, at, by_name, note, token_name from dr_audits order by at desc, id desc limit ?";

    private final DataSource db;

    public RecoveryAudits(DataSource db) {
        this.db = db;
    }

    /** Records an audit; a missing or too long name or note is the caller's fault ({@link IllegalArgumentException}), nothing recorded. */
    public Audit record(Instant at, String by, String note, String token) throws SQLException {
        String name = by == null ? "" : by.strip();
        String text = note == null ? "" : note.strip();
        if (name.isEmpty()) throw new IllegalArgumentException("the audit needs the name of the person who went through the runbook (--by NAME)");
        if (name.length() > MAX_NAME) throw new IllegalArgumentException("the name is " + name.length() + " characters long; at most " + MAX_NAME);
        if (text.length() > MAX_NOTE) throw new IllegalArgumentException("the note is " + text.length() + " characters long; at most " + MAX_NOTE);
        if (name.chars().anyMatch(Character::isISOControl)) throw new IllegalArgumentException("the name contains control characters");
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, name);
            ps.setString(3, text);
            ps.setString(4, token);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Audit(rs.getLong(1), at, name, text, token);
            }
        }
    }

    /** The newest {@code limit} audits, newest first. */
    public List<Audit> recent(int limit) throws SQLException {
        List<Audit> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RECENT)) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Audit(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5)));
            }
        }
        return out;
    }

    /** When the newest audit was recorded; null if never. */
    public Instant last() throws SQLException {
        List<Audit> r = recent(1);
        return r.isEmpty() ? null : r.get(0).at();
    }
}
