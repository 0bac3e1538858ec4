package dev.bunker.backup;

import dev.bunker.dburl.DatabaseUrls;
import java.net.URI;

/**
 * A PostgreSQL connection as both libpq (for pg_dump/pg_restore) and JDBC want it. The password
 * never goes on a command line: child processes get it in PGPASSWORD.
 */
public record Conninfo(String host, int port, String database, String user, String password, String query) {
    public static Conninfo parse(String url, String user, String password) {
        URI uri = dev.bunker.config.PostgresUrls.parse(url);
        DatabaseUrls.Credentials given = DatabaseUrls.credentials(uri);
        String query = uri.getRawQuery();
        String queryUser = DatabaseUrls.decode(param(query, "user"));
        String queryPassword = DatabaseUrls.decode(param(query, "password"));
        String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
        return new Conninfo(uri.getHost() == null ? "127.0.0.1" : uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), db,
                user != null ? user : given.user() != null ? given.user() : queryUser,
                password != null ? password : given.password() != null ? given.password() : queryPassword,
                query == null ? null : query.replaceAll("(^|&)(user|password)=[^&]*", "").replaceFirst("^&", ""));
    }

    private static String param(String query, String name) {
        if (query == null) return null;
        for (String p : query.split("&")) if (p.startsWith(name + "=")) return p.substring(name.length() + 1);
        return null;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + (query == null || query.isEmpty() ? "" : "?" + query);
    }

    /** For pg_dump/pg_restore {@code -d}: no password in it. */
    public String libpqUrl() {
        return "postgresql://" + (user == null ? "" : user + "@") + host + ":" + port + "/" + database;
    }

    /** Safe to print. */
    @Override
    public String toString() {
        return libpqUrl();
    }
}
