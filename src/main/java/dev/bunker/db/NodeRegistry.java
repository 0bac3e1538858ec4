package dev.bunker.db;

import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/** Records this {@code serve} process in {@code bunker.nodes} and keeps its last_seen fresh, so status can list live processes. */
public final class NodeRegistry {
    private static final String REGISTER = """
            insert into nodes (id, host, pid, version, listen) values (?, ?, ?, ?, ?)
            """;
    private static final String HEARTBEAT = "update nodes set last_seen = now() where id = ?";
    private static final String REMOVE = "delete from nodes where id = ?";
    /** Rows of processes not seen for a day are gone processes (killed, machine lost). */
    private static final String FORGET_DEAD = "delete from nodes where last_seen < now() - interval '1 day'";

    private static final String LIVE = """
            select host, pid, listen, started_at, last_seen from nodes
             where last_seen > now() - interval '1 minute' order by started_at
            """;

    private final Database db;
    private final UUID id = UUID.randomUUID();

    public NodeRegistry(Database db) {
        this.db = db;
    }

    public UUID id() { return id; }

    public void register(String version, String listen) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(REGISTER);
             PreparedStatement forget = c.prepareStatement(FORGET_DEAD)) {
            forget.executeUpdate();
            ps.setObject(1, id);
            ps.setString(2, hostName());
            ps.setLong(3, ProcessHandle.current().pid());
            ps.setString(4, version);
            ps.setString(5, listen);
            ps.executeUpdate();
        }
    }

    public void heartbeat() throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
            ps.setObject(1, id);
            ps.executeUpdate();
        }
    }

    public void deregister() throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(REMOVE)) {
            ps.setObject(1, id);
            ps.executeUpdate();
        }
    }

    /** A serve process: where it runs, what it listens on, since when, and its last heartbeat. */
    public record Node(String host, long pid, String listen, java.time.Instant startedAt, java.time.Instant lastSeen) {}

    /** The serve processes seen in the last minute. */
    public static java.util.List<Node> live(Database db) throws SQLException {
        java.util.List<Node> out = new java.util.ArrayList<>();
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(LIVE); java.sql.ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Node(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
            }
        }
        return out;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
