package dev.bunker.config;

import java.net.URI;

/**
 * How secrets inside URLs are shown in output and logs: a webhook's path and query (which carry its token,
 * as Slack's and most others' do) and a database URL's password, wherever it is written in it.
 */
public final class Redact {
    public static final String MASK = dev.bunker.dburl.DatabaseUrls.MASK;

    private Redact() {}

    /** "https://hooks.example.com/…": the host says which webhook it is, the rest is its secret. */
    public static String webhook(String url) {
        try {
            URI u = URI.create(url);
            boolean more = (u.getRawPath() != null && u.getRawPath().length() > 1) || u.getRawQuery() != null;
            return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + "/" + (more ? "…" : "");
        } catch (IllegalArgumentException e) {
            return "(a webhook URL)";
        }
    }

    /** A database URL with any password masked: in the user info, and in password-like query parameters. */
    public static String databaseUrl(String url) {
        return dev.bunker.dburl.DatabaseUrls.redact(url);
    }
}
