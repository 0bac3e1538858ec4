package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenConfig;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The dashboard's logins: {@code POST /login} with an API token opens a session, named by a random id sent as an
 * HttpOnly, SameSite=Strict cookie; the session carries the token's name and scope until it expires. Only the ids'
 * SHA-256 are kept, in memory: a restart (which a token's removal from the config needs anyway) logs everyone out.
 * The API ({@code /v1}) never takes the cookie, only the dashboard's {@code /ui/v1} mirror of it does.
 */
public final class Sessions {
    public static final String COOKIE = "bunker_session";
    /** Beyond this many live sessions the oldest expiring are dropped: a flood of logins cannot grow memory. */
    static final int MAX_SESSIONS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Session(TokenConfig token, Instant expires) {}

    private final Map<String, Session> byHash = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final Clock clock;

    public Sessions(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    public Duration ttl() { return ttl; }

    /** Opens a session for {@code token}; returns the id to set as the cookie's value. */
    public String open(TokenConfig token) {
        Instant now = clock.instant();
        if (byHash.size() >= MAX_SESSIONS) {
            byHash.values().removeIf(s -> !s.expires().isAfter(now));
            while (byHash.size() >= MAX_SESSIONS) {
                byHash.entrySet().stream().min(Map.Entry.comparingByValue((a, b) -> a.expires().compareTo(b.expires())))
                        .ifPresent(e -> byHash.remove(e.getKey()));
            }
        }
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        byHash.put(Tokens.hash(id), new Session(token, now.plus(ttl)));
        return id;
    }

    /** The token of the session a {@code Cookie} header names, if it is live. */
    public Optional<TokenConfig> find(String cookieHeader) {
        String id = cookie(cookieHeader);
        if (id == null) return Optional.empty();
        String hash = Tokens.hash(id);
        Session s = byHash.get(hash);
        if (s == null) return Optional.empty();
        if (!s.expires().isAfter(clock.instant())) {
            byHash.remove(hash);
            return Optional.empty();
        }
        return Optional.of(s.token());
    }

    /** Ends the session a {@code Cookie} header names (logout). */
    public void close(String cookieHeader) {
        String id = cookie(cookieHeader);
        if (id != null) byHash.remove(Tokens.hash(id));
    }

    /** The {@code Set-Cookie} value for a new session, or (with a null id) one that removes it; {@code secure}: over TLS only. */
    public String setCookie(String id, boolean secure) {
        return COOKIE + "=" + (id == null ? "" : id) + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "") + "; Max-Age="
                + (id == null ? 0 : ttl.toSeconds());
    }

    /** Live sessions held (expired ones are dropped as the cap nears). */
    int size() { return byHash.size(); }

    private static String cookie(String header) {
        if (header == null) return null;
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith(COOKIE + "=")) {
                String v = p.substring(COOKIE.length() + 1);
                return v.isEmpty() || v.length() > 100 ? null : v;
            }
        }
        return null;
    }
}
