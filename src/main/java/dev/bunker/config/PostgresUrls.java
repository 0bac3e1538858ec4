package dev.bunker.config;

import dev.bunker.dburl.DatabaseUrls;
import java.net.URI;

/** The check every PostgreSQL URL passes, at config load and wherever one is given: its host must be readable. */
public final class PostgresUrls {
    private PostgresUrls() {}

    /** {@code url} as java.net.URI reads it ({@code jdbc:} and {@code postgres://} accepted); refuses one whose host it cannot read. */
    public static URI parse(String url) {
        String u = url.startsWith("jdbc:") ? url.substring(5) : url;
        if (u.startsWith("postgres://")) u = "postgresql://" + u.substring("postgres://".length());
        return DatabaseUrls.parse(u, "PostgreSQL");
    }
}
