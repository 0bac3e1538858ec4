package dev.bunker.mariadb;

import dev.bunker.dburl.DatabaseUrls;
import java.net.URI;
import java.util.Map;

/**
 * A MariaDB or MySQL database as the tools ({@code mariadb-dump}, {@code mariadb}) and JDBC want it:
 * {@code mariadb://USER@HOST:PORT/DB} (also {@code mysql://}, {@code jdbc:mariadb://}, {@code jdbc:mysql://}). One database: a
 * backup holds its tables, views, routines, triggers and events, and restores into a database of any name; no database
 * ({@code database} null): every database of the server, each restored under its own name. The password never goes on a
 * command line: the tools get it in MYSQL_PWD.
 */
public record MariaDbUrl(String host, int port, String database, String user, String password) {
    public static final int DEFAULT_PORT = 3306;

    /** Whether {@code url} names a MariaDB or MySQL database rather than a PostgreSQL one. */
    public static boolean matches(String url) {
        String u = url.startsWith("jdbc:") ? url.substring(5) : url;
        return u.startsWith("mariadb://") || u.startsWith("mysql://");
    }

    /** {@code user} and {@code password}, when given, win over the URL's. */
    public static MariaDbUrl parse(String url, String user, String password) {
        return parse(url, user, password, Database.ONE);
    }

    /** Whether a URL names one database, names none (a source of all databases: {@code mariadb://USER@HOST:PORT}), or may do either. */
    public enum Database { ONE, NONE, EITHER }

    /** As {@link #parse(String, String, String)}; {@code database} says whether the URL must name a database (null: none named). */
    public static MariaDbUrl parse(String url, String user, String password, Database database) {
        if (!matches(url)) throw new IllegalArgumentException("\"" + url + "\" is not a MariaDB URL; expected mariadb://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB");
        URI uri = DatabaseUrls.parse(url.startsWith("jdbc:") ? url.substring(5) : url, "MariaDB");
        DatabaseUrls.Credentials given = DatabaseUrls.credentials(uri);
        String path = uri.getPath();
        boolean named = path != null && path.length() > 1;
        if (named && path.indexOf('/', 1) >= 0) {
            throw new IllegalArgumentException("\"" + DatabaseUrls.redact(url) + "\" names no database (" + path.substring(1) + " is not a database "
                    + "name); expected mariadb://USER@HOST:PORT/DB");
        }
        if (!named && database == Database.ONE) {
            throw new IllegalArgumentException("\"" + DatabaseUrls.redact(url) + "\" names no database; expected mariadb://USER@HOST:PORT/DB (one database "
                    + "per source, or set all-databases: true on the source to back up every database of the server)");
        }
        if (named && database == Database.NONE) {
            throw new IllegalArgumentException("\"" + DatabaseUrls.redact(url) + "\" names the database " + path.substring(1) + ", but the source has "
                    + "all-databases: true; leave the database out (mariadb://USER@HOST:PORT), or drop all-databases to back up that one");
        }
        String db = named ? path.substring(1) : null;
        if (db != null && (db.length() > 64 || db.chars().anyMatch(c -> c == '`' || c == 0 || c == '\\' || c == '/' || c == '.'))) {
            throw new IllegalArgumentException("\"" + db + "\" is not a database name Bunker backs up (at most 64 characters, none of ` \\ / .)");
        }
        return new MariaDbUrl(uri.getHost() == null ? "127.0.0.1" : uri.getHost(), uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), db,
                user != null ? user : given.user(), password != null ? password : given.password());
    }

    /**
     * A restore target: {@link #parse}, the password from MYSQL_PWD when the URL has none (as the mariadb client reads it); a
     * database, or none for a backup of all databases (the restore checks which the backup needs).
     */
    public static MariaDbUrl target(String url) {
        MariaDbUrl given = parse(url, null, null, Database.EITHER);
        return given.password() != null ? given : parse(url, null, System.getenv("MYSQL_PWD"), Database.EITHER);
    }

    /** The same server, another database (a restore's target, the drill's copy). */
    public MariaDbUrl withDatabase(String db) {
        return new MariaDbUrl(host, port, db, user, password);
    }

    public String jdbcUrl(String db) {
        return "jdbc:mariadb://" + host + ":" + port + "/" + (db == null ? "" : db) + "?connectTimeout=10000";
    }

    /** How the command-line tools reach the server (over TCP, so "localhost" never silently means a local socket). */
    public java.util.List<String> toolArgs() {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--host=" + host, "--port=" + port, "--protocol=TCP"));
        if (user != null) args.add("--user=" + user);
        return args;
    }

    /** The environment the tools read the password from. */
    public Map<String, String> toolEnv() {
        return password == null ? Map.of() : Map.of("MYSQL_PWD", password);
    }

    /** Safe to print. */
    @Override
    public String toString() {
        return "mariadb://" + (user == null ? "" : user + "@") + host + ":" + port + "/" + (database == null ? "" : database);
    }
}
