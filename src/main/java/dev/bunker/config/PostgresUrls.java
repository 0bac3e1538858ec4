package dev.bunker.config;

import java.net.URI;
import java.net.URISyntaxException;

/** The check every PostgreSQL URL passes, at config load and wherever one is given: its host must be readable. */
public final class PostgresUrls {
    private PostgresUrls() {}

    /** {@code url} as java.net.URI reads it ({@code jdbc:} and {@code postgres://} accepted); refuses one whose host it cannot read. */
    public static URI parse(String url) {
        String u = url.startsWith("jdbc:") ? url.substring(5) : url;
        if (u.startsWith("postgres://")) u = "postgresql://" + u.substring("postgres://".length());
        URI uri;
        try {
            uri = new URI(u);
        } catch (URISyntaxException e) {
            // The message names the URL with its password masked: it is printed and logged.
            throw new IllegalArgumentException("\"" + Redact.databaseUrl(url) + "\" is not a PostgreSQL URL (" + e.getReason() + ")");
        }
        if (uri.getHost() == null && uri.getRawAuthority() != null) {
            // java.net.URI gives up on an unescaped '@' or '/' in the password (or a '_' in the host): the host would
            // silently become 127.0.0.1, another server than the one meant
            throw new IllegalArgumentException("cannot read the host of \"" + Redact.databaseUrl(url) + "\"; percent-encode "
                    + "@ : / in the user and password (%40 %3A %2F), and use a host name without '_' (or its address)");
        }
        return uri;
    }
}
