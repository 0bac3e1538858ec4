package dev.bunker.dburl;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * What every database URL Bunker reads goes through, PostgreSQL's and MariaDB's alike: one reading of the host, one
 * decoding of the user and password, one way of masking the password when the URL is shown.
 */
public final class DatabaseUrls {
    public static final String MASK = "********";

    private DatabaseUrls() {}

    /** The user and password of a URL's user info, percent-decoded; each null when the URL has none. */
    public record Credentials(String user, String password) {}

    /**
     * {@code url} (without any {@code jdbc:} prefix) as java.net.URI reads it; refuses one that is not a URL, or whose host
     * URI cannot read. {@code kind} names the database in the error ("PostgreSQL", "MariaDB").
     */
    public static URI parse(String url, String kind) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            // the message names the URL with its password masked: it is printed and logged
            throw new IllegalArgumentException("\"" + redact(url) + "\" is not a " + kind + " URL (" + e.getReason() + ")");
        }
        if (uri.getHost() == null && uri.getRawAuthority() != null) {
            // java.net.URI gives up on an unescaped '@' or '/' in the password (or a '_' in the host): the host would
            // silently become 127.0.0.1, another server than the one meant
            throw new IllegalArgumentException("cannot read the host of \"" + redact(url) + "\"; percent-encode "
                    + "@ : / in the user and password (%40 %3A %2F), and use a host name without '_' (or its address)");
        }
        return uri;
    }

    /** The URL's user and password, decoded. */
    public static Credentials credentials(URI uri) {
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null) return new Credentials(null, null);
        int colon = userInfo.indexOf(':');
        return new Credentials(decode(colon < 0 ? userInfo : userInfo.substring(0, colon)), colon < 0 ? null : decode(userInfo.substring(colon + 1)));
    }

    /** Percent-decoding as libpq and the MariaDB client do it ('+' stays '+'); null stays null. */
    public static String decode(String s) {
        return s == null ? null : URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The URL with the password of its user info masked, and of password-like query parameters. */
    public static String redact(String url) {
        if (url == null) return null;
        // up to the LAST '@' before any query: a password may hold a raw '@' or '/' (masking too much is the safe way to be wrong)
        return url.replaceAll("://([^:@/]*):[^?]*@", "://$1:" + MASK + "@")
                .replaceAll("(?i)([?&](?:password|sslpassword|sslkey|sslcert)=)[^&]*", "$1" + MASK);
    }
}
