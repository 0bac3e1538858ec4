package dev.bunker.clone;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.TakeBackup;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A clone's private database on the target's server, from its creation until it holds the target's name. Until then it
 * holds unscrubbed rows, so it never outlives its run: a failure or an orderly stop (Ctrl-C, SIGTERM: a shutdown hook)
 * drops it, and what a killed run left (its private database, or the old target of a swap that committed) is dropped
 * by the next clone of the same target before anything else. One clone per target name at a time (an advisory lock
 * held for the whole run), so that cleanup never touches a live run's database.
 */
final class PrivateDatabase implements AutoCloseable {
    static final String LOCK = "select pg_try_advisory_lock(hashtext('bunker-clone'), hashtext(?))";

    private final Conninfo admin;
    private final String target;
    private final String base;
    private final String name;
    private final int major;
    private final Connection lock;
    private Thread hook;
    private volatile boolean placed; // read by the shutdown hook's thread

    private PrivateDatabase(Conninfo admin, String target, String base, String name, int major, Connection lock) {
        this.admin = admin;
        this.target = target;
        this.base = base;
        this.name = name;
        this.major = major;
        this.lock = lock;
    }

    /** Takes the target's clone lock and drops what earlier runs left behind; the database itself is made by {@link #create}. */
    static PrivateDatabase claim(Conninfo admin, String target, int major, SecureRandom random, Consumer<String> phases)
            throws CloneException, SQLException {
        String base = target;
        while (base.getBytes(StandardCharsets.UTF_8).length + "_bunker_clone_".length() + 8 > 63) base = base.substring(0, base.length() - 1);
        byte[] id = new byte[4];
        random.nextBytes(id);
        Connection lock = TakeBackup.connect(admin, "the clone target's server", "check --target");
        try (PreparedStatement p = lock.prepareStatement(LOCK)) {
            p.setString(1, base);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    throw new CloneException("another clone into " + target + " is running on this server; wait for it to end", true);
                }
            }
            PrivateDatabase db = new PrivateDatabase(admin, target, base, base + "_bunker_clone_" + HexFormat.of().formatHex(id), major, lock);
            for (String left : db.leftovers()) {
                phases.accept("dropping " + left + ", left by an interrupted clone");
                db.dropDatabase(left);
            }
            return db;
        } catch (CloneException | SQLException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    String name() { return name; }

    /** Creates the database, closed to everyone but its owner, and makes sure an orderly stop drops it. */
    void create() throws SQLException {
        try (Statement s = lock.createStatement()) {
            s.execute("create database " + ColumnName.quote(name));
            hook = new Thread(this::dropQuietly, "bunker-clone-drop");
            Runtime.getRuntime().addShutdownHook(hook);
            s.execute("revoke connect on database " + ColumnName.quote(name) + " from public");
        }
    }

    /** Drops the private database (its sessions ended first, on PostgreSQL 13 and later). */
    void drop() throws SQLException {
        dropDatabase(name);
    }

    /**
     * Gives the clone the target's name in one transaction: the existing target (closed to new sessions and its sessions
     * ended first) is renamed away and the clone renamed into place together, so a process killed meanwhile leaves
     * either the old target or the clone under the name, never neither. The old one is dropped afterwards.
     */
    void putInPlace(boolean replace) throws SQLException, CloneException {
        try (Statement s = lock.createStatement()) {
            String old = null;
            if (exists(lock, target)) {
                if (!replace) throw new CloneException("target database " + target + " was created while the clone was made; pass --replace to replace it", true);
                old = name.replace("_bunker_clone_", "_bunker_old_");
                s.execute("alter database " + ColumnName.quote(target) + " allow_connections false");
                try {
                    endSessions(target);
                } catch (SQLException e) {
                    s.execute("alter database " + ColumnName.quote(target) + " allow_connections true");
                    throw new CloneException("unable to end the sessions on " + target + " (" + e.getMessage() + "); grant pg_signal_backend to "
                            + admin.user() + " or end them yourself, then run again; " + target + " is unchanged", false);
                }
            }
            lock.setAutoCommit(false);
            try {
                if (old != null) s.execute("alter database " + ColumnName.quote(target) + " rename to " + ColumnName.quote(old));
                s.execute("alter database " + ColumnName.quote(name) + " rename to " + ColumnName.quote(target));
                s.execute("grant connect on database " + ColumnName.quote(target) + " to public");
                lock.commit();
            } catch (SQLException e) {
                lock.rollback();
                lock.setAutoCommit(true);
                if (old != null) s.execute("alter database " + ColumnName.quote(target) + " allow_connections true");
                throw e;
            }
            lock.setAutoCommit(true);
            placed = true;
            if (old != null) dropDatabase(old); // if this fails, the next clone of the target drops it
        }
    }

    /** Releases the lock; drops the private database unless it took the target's name. */
    @Override
    public void close() throws SQLException {
        try {
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException stopping) {
                    // the process is stopping: the hook drops it
                }
            }
            if (!placed && hook != null) drop();
        } finally {
            lock.close();
        }
    }

    private void dropQuietly() {
        if (placed) return;
        try (Connection c = TakeBackup.connect(admin, "the clone target's server", "check --target"); Statement s = c.createStatement()) {
            s.execute("drop database if exists " + ColumnName.quote(name) + (major >= 13 ? " with (force)" : ""));
        } catch (SQLException | RuntimeException e) {
            System.err.println("bunker: could not drop the clone's private database " + name + " (" + e.getMessage() + "); the next clone of "
                    + target + " drops it, or drop it yourself");
        }
    }

    /** Private and old databases of this target that no run holds (this run holds the lock, so none of them is live). */
    private List<String> leftovers() throws SQLException {
        Pattern ours = Pattern.compile(Pattern.quote(base) + "_bunker_(clone|old)_[0-9a-f]{8}");
        List<String> out = new ArrayList<>();
        try (PreparedStatement p = lock.prepareStatement("select datname from pg_database where left(datname, ?) = ?")) {
            p.setInt(1, base.length());
            p.setString(2, base);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) if (ours.matcher(rs.getString(1)).matches()) out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * Drops {@code database}, ending its sessions. A session of another role cannot be ended by ours; the ones seen here
     * are refused logins still on their way out (CONNECT is revoked), gone within moments: the drop is tried again
     * for up to 5 s before it fails.
     */
    private void dropDatabase(String database) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Statement s = lock.createStatement()) {
                s.execute("drop database if exists " + ColumnName.quote(database) + (major >= 13 ? " with (force)" : ""));
                return;
            } catch (SQLException e) {
                // 42501: a session of another role; 55006: a session still there (before 13, nothing ends them)
                if (attempt == 25 || !("42501".equals(e.getSQLState()) || "55006".equals(e.getSQLState()))) throw e;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while dropping " + database);
            }
        }
    }

    /** Whether the server {@code c} is connected to has a database of that name. */
    static boolean exists(Connection c, String database) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("select 1 from pg_database where datname = ?")) {
            p.setString(1, database);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Ends the sessions on {@code database} and waits (up to 10 s) until they are gone, so it can be renamed. */
    private void endSessions(String database) throws SQLException {
        try (PreparedStatement end = lock.prepareStatement("select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()");
             PreparedStatement left = lock.prepareStatement("select count(*) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()")) {
            end.setString(1, database);
            end.executeQuery().close();
            left.setString(1, database);
            for (int i = 0; i < 100; i++) {
                try (ResultSet rs = left.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for the sessions on " + database + " to end");
                }
            }
        }
    }
}
