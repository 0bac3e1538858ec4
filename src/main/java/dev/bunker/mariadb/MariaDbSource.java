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
        String on = url.database() == null ? "*.*" : "`" + url.database() + "`.*";
        return "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON " + on + to
                + " GRANT SELECT ON mysql.proc" + to + " (MariaDB 11.3+: GRANT SHOW CREATE ROUTINE ON " + on + to + ")"
                + " and, with the binary log on: GRANT BINLOG MONITOR ON *.*" + to + " (MySQL: REPLICATION CLIENT)";
    }

    /** What the server said about itself and the source's tables, before a dump; {@code databases}: what the dump holds. */
    public record Inspected(String serverVersion, boolean binlog, List<String> nonTransactional, List<String> databases) {}

    /** The server's own schemas: never part of a backup of "all databases" (accounts and grants are the server's, not the app's). */
    public static final List<String> SYSTEM = List.of("mysql", "information_schema", "performance_schema", "sys");

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
            if (dump && url.database() == null && !Grants.holdsGlobally(grants, "SELECT")) { // else it sees, and backs up, only some databases
                throw new WriterException("backup source '" + name + "' has all-databases: true, but " + url.user() + " may not read every database "
                        + "(no SELECT on *.*), so its dumps would leave some out without a word; grant it: " + grantAdvice(url));
            }
            List<String> databases = url.database() != null ? List.of(url.database()) : userDatabases(c);
            List<String> writes = new ArrayList<>();
            for (String db : databases) for (String w : Grants.writesOn(grants, db)) if (!writes.contains(w)) writes.add(w);
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
            for (String db : databases) {
                for (String needed : List.of("TRIGGER", "EVENT")) { // without them SHOW TRIGGERS / SHOW EVENTS list nothing, and the dump lacks them
                    if (dump && !Grants.holds(grants, needed, db)) {
                        throw new WriterException("backup source '" + name + "' connects as " + url.user() + ", which lacks " + needed + " on `"
                                + db + "`, so its dumps would leave out the database's " + (needed.equals("TRIGGER") ? "triggers" : "events")
                                + " without a word; grant it: " + grantAdvice(url));
                    }
                }
                if (dump && version.contains("MariaDB") && !seesRoutines(c, grants, db)) {
                    throw new WriterException("backup source '" + name + "' connects as " + url.user() + ", which cannot see the database's stored "
                            + "procedures and functions" + (url.database() == null ? " (of `" + db + "`)" : "") + ", so its dumps would leave them out "
                            + "without a word; grant it: " + grantAdvice(url));
                }
            }
            if (dump && databases.isEmpty()) {
                throw new WriterException("backup source '" + name + "' has all-databases: true, but " + url.user() + " sees no database on the "
                        + "server besides its own schemas; grant it: " + grantAdvice(url));
            }
            List<String> nonTransactional = new ArrayList<>();
            for (String db : databases) {
                try (PreparedStatement ps = c.prepareStatement("select table_name, engine from information_schema.tables where table_schema = ? "
                        + "and table_type = 'BASE TABLE' and engine not in ('InnoDB', 'ROCKSDB') order by table_name")) {
                    ps.setString(1, db);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) nonTransactional.add((url.database() == null ? db + "." : "") + rs.getString(1) + " (" + rs.getString(2) + ")");
                    }
                }
            }
            return new Inspected(version, binlog, nonTransactional, databases);
        }
    }

    /** MariaDB shows a routine's definition to its definer, to readers of mysql.proc, and (11.3+) to holders of SHOW CREATE ROUTINE. */
    private static boolean seesRoutines(Connection c, List<String> grants, String db) {
        try (PreparedStatement ps = c.prepareStatement("select count(*) from mysql.proc where db = ?")) {
            ps.setString(1, db);
            ps.executeQuery().close();
            return true;
        } catch (SQLException denied) {
            return Grants.holds(grants, "SHOW CREATE ROUTINE", db);
        }
    }

    /** Every database the user sees, but the server's own schemas, in name order. */
    private static List<String> userDatabases(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select schema_name from information_schema.schemata order by schema_name")) {
            while (rs.next()) if (!SYSTEM.contains(rs.getString(1).toLowerCase(java.util.Locale.ROOT))) out.add(rs.getString(1));
        }
        return out;
    }

    private static List<String> grants(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /**
     * Starts the dump of {@code databases} (as {@link #inspect} found them); its standard output is the SQL. With the binary
     * log on, the header records the snapshot's position. One database is dumped without its name (it restores into any);
     * several with theirs ({@code --databases}: each created and used by name).
     */
    public ToolProcess startDump(Path dumpTool, boolean binlog, List<String> databases) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(dumpTool.toString(), "--no-defaults"));
        cmd.addAll(url.toolArgs());
        cmd.addAll(List.of("--single-transaction", "--quick", "--routines", "--triggers", "--events",
                "--default-character-set=utf8mb4"));
        if (binlog) cmd.addAll(List.of("--master-data=2", "--gtid"));
        if (url.database() == null) cmd.add("--databases");
        cmd.add("--");
        cmd.addAll(url.database() == null ? databases : List.of(url.database()));
        return ToolProcess.start("mariadb-dump", cmd, url.toolEnv());
    }

    /** The backup user may change the data it backs up, or cannot see all of it. */
    public static final class WriterException extends Exception {
        public WriterException(String message) {
            super(message);
        }
    }
}
