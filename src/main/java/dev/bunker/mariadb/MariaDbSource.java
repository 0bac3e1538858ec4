package dev.bunker.mariadb;

import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A MariaDB or MySQL database being backed up: what its server is, whether its user may only read, which tables a
 * consistent dump cannot cover, and the dump itself ({@code mariadb-dump --single-transaction}: one InnoDB snapshot,
 * writers never stopped, routines, triggers and events included, the binary log position recorded when the log is on).
 */
public final class MariaDbSource {
    /**
     * The GRANTs a backup user needs: reading the data, views, triggers and events; seeing the routines (without it a dump
     * leaves them out without a word); and the binary log's position when the log is on.
     */
    public static String grantAdvice(MariaDbUrl url) {
        String to = " TO '" + (url.user() == null ? "backup" : url.user()) + "'@'BUNKER-HOST';";
        return "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `" + url.database() + "`.*" + to
                + " GRANT SELECT ON mysql.proc" + to + " (MariaDB 11.3+: GRANT SHOW CREATE ROUTINE ON `" + url.database() + "`.*" + to + ")"
                + " and, with the binary log on: GRANT BINLOG MONITOR ON *.*" + to + " (MySQL: REPLICATION CLIENT)";
    }

    /** What the server said about itself and the source's tables, before a dump. */
    public record Inspected(String serverVersion, boolean binlog, List<String> nonTransactional) {}

    private final MariaDbUrl url;
    private final String name;

    public MariaDbSource(MariaDbUrl url, String name) {
        this.url = url;
        this.name = name;
    }

    public MariaDbUrl url() { return url; }

    public Connection connect() throws SQLException {
        return connect(url, "backup source '" + name + "'", "check backups.sources." + name + " (url, user, password)");
    }

    /** Connects over JDBC to {@code url}'s database (null database: the server only). */
    public static Connection connect(MariaDbUrl url, String what, String fix) throws SQLException {
        Properties p = new Properties();
        if (url.user() != null) p.setProperty("user", url.user());
        if (url.password() != null) p.setProperty("password", url.password());
        try {
            return DriverManager.getConnection(url.jdbcUrl(url.database()), p);
        } catch (SQLException e) {
            throw new SQLException("unable to connect to " + what + " at " + url + ": " + e.getMessage() + "; " + fix + " and that the server is up", e);
        }
    }

    /**
     * Checks the user only reads (else {@link WriterException}, unless {@code allowWriter}), and reads the server's version,
     * whether its binary log is on, and the tables whose engine has no transactions (MyISAM, Aria: a single-transaction
     * dump cannot hold them still).
     */
    public Inspected inspect(boolean allowWriter) throws SQLException, WriterException {
        return inspect(allowWriter, true);
    }

    /** As {@link #inspect(boolean)}; {@code dump}: the routines must be visible (a physical backup copies files, and needs not). */
    public Inspected inspect(boolean allowWriter, boolean dump) throws SQLException, WriterException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            List<String> grants = grants(s, "SHOW GRANTS");
            for (String role : Grants.roles(grants)) grants.addAll(grants(s, "SHOW GRANTS FOR " + role));
            List<String> writes = Grants.writesOn(grants, url.database());
            if (!writes.isEmpty() && !allowWriter) {
                throw new WriterException("backup source '" + name + "' connects as " + url.user() + ", which may change the data it backs up ("
                        + String.join(", ", writes) + "); back up with a user that only reads: " + grantAdvice(url)
                        + " Or set backups.allow-superuser: true to back up with this user anyway");
            }
            String version;
            boolean binlog;
            try (ResultSet rs = s.executeQuery("select version(), @@log_bin")) {
                rs.next();
                version = rs.getString(1);
                binlog = rs.getBoolean(2);
            }
            for (String needed : List.of("TRIGGER", "EVENT")) { // without them SHOW TRIGGERS / SHOW EVENTS list nothing, and the dump lacks them
                if (dump && !Grants.holds(grants, needed, url.database())) {
                    throw new WriterException("backup source '" + name + "' connects as " + url.user() + ", which lacks " + needed + " on `"
                            + url.database() + "`, so its dumps would leave out the database's " + (needed.equals("TRIGGER") ? "triggers" : "events")
                            + " without a word; grant it: " + grantAdvice(url));
                }
            }
            if (dump && version.contains("MariaDB") && !seesRoutines(c, grants)) {
                throw new WriterException("backup source '" + name + "' connects as " + url.user() + ", which cannot see the database's stored "
                        + "procedures and functions, so its dumps would leave them out without a word; grant it: " + grantAdvice(url));
            }
            List<String> nonTransactional = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select table_name, engine from information_schema.tables where table_schema = ? "
                    + "and table_type = 'BASE TABLE' and engine not in ('InnoDB', 'ROCKSDB') order by table_name")) {
                ps.setString(1, url.database());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) nonTransactional.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                }
            }
            return new Inspected(version, binlog, nonTransactional);
        }
    }

    /** MariaDB shows a routine's definition to its definer, to readers of mysql.proc, and (11.3+) to holders of SHOW CREATE ROUTINE. */
    private boolean seesRoutines(Connection c, List<String> grants) {
        try (PreparedStatement ps = c.prepareStatement("select count(*) from mysql.proc where db = ?")) {
            ps.setString(1, url.database());
            ps.executeQuery().close();
            return true;
        } catch (SQLException denied) {
            return Grants.holds(grants, "SHOW CREATE ROUTINE", url.database());
        }
    }

    private static List<String> grants(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /** Starts the dump; its standard output is the SQL. With the binary log on, the header records the snapshot's position. */
    public ToolProcess startDump(Path dumpTool, boolean binlog) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(dumpTool.toString(), "--no-defaults"));
        cmd.addAll(url.toolArgs());
        cmd.addAll(List.of("--single-transaction", "--quick", "--routines", "--triggers", "--events",
                "--default-character-set=utf8mb4"));
        if (binlog) cmd.addAll(List.of("--master-data=2", "--gtid"));
        cmd.add("--");
        cmd.add(url.database());
        return ToolProcess.start("mariadb-dump", cmd, url.toolEnv());
    }

    /** The backup user may change the data it backs up, or cannot see all of it. */
    public static final class WriterException extends Exception {
        public WriterException(String message) {
            super(message);
        }
    }
}
