package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The dashboard's page and login: {@code GET /} (a page with no data in it: the figures come from {@code /ui/v1}, behind
 * the session), its scripts and styles from the jar (uPlot from its WebJar: nothing is fetched from elsewhere, the page
 * works offline), {@code POST /login} with an API token and {@code POST /logout}.
 */
public final class DashboardRoutes {
    /** The uPlot WebJar's version (pom.xml): its files are served from the jar under /webjars/uplot/. */
    static final String UPLOT = "1.6.30";
    static final int MAX_LOGIN_BODY = 4096;
    /** Scripts and styles only from this server; the page cannot be framed, and its forms post only here. */
    static final String CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            + "form-action 'self'";
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8", "png", "image/png", "svg", "image/svg+xml");

    private DashboardRoutes() {}

    public static List<Route> of(Tokens tokens, Sessions sessions) {
        return List.of(
                Route.of("GET", "/", null, call -> resource(call, "/dashboard/index.html")),
                Route.of("GET", "/runbook", null, call -> resource(call, "/dashboard/index.html")),
                Route.of("GET", "/assets/(?<file>[a-z0-9-]+\\.(?:js|css|svg|png))", null, call -> resource(call, "/dashboard/" + call.param("file"))),
                Route.of("GET", "/webjars/uplot/(?<file>uPlot\\.iife\\.min\\.js|uPlot\\.min\\.css)", null,
                        call -> resource(call, "/META-INF/resources/webjars/uplot/" + UPLOT + "/dist/" + call.param("file"))),
                Route.of("POST", "/login", null, call -> login(call, tokens, sessions)),
                Route.of("POST", "/logout", null, call -> {
                    if (call.crossSite()) {
                        call.error(403, "log out from the dashboard's own page");
                        return;
                    }
                    sessions.close(call.header("Cookie"));
                    call.setHeader("Set-Cookie", sessions.setCookie(null, call.secure()));
                    call.json(200, Map.of("loggedOut", true));
                }));
    }

    /**
     * {@code POST /login}: the token as a form field ({@code token=...}) or as {@code Authorization: Bearer}; a session
     * cookie on success, 401 (and nothing set) otherwise.
     */
    static void login(Call call, Tokens tokens, Sessions sessions) throws IOException {
        if (call.crossSite()) { // another site's page must not log this browser in (to a session of the attacker's choosing)
            call.error(403, "log in from the dashboard's own page");
            return;
        }
        Optional<TokenConfig> token = tokens.authenticate(call.header("Authorization"));
        if (token.isEmpty()) {
            String form = call.smallBody(MAX_LOGIN_BODY);
            for (String pair : form.split("&")) {
                if (pair.startsWith("token=")) token = tokens.authenticateSecret(PercentDecoding.decode(pair.substring(6), "the form", true));
            }
        }
        call.setHeader("Cache-Control", "no-store");
        if (token.isEmpty()) {
            call.error(401, "that is not an API token this Bunker accepts; `bunker token create` makes one (read scope is enough to view)");
            return;
        }
        if (token.get().scope() == TokenScope.WAL_PUSH) {
            call.error(403, "token '" + token.get().name() + "' may only push WAL; log in with a read or admin token");
            return;
        }
        sessions.close(call.header("Cookie")); // a new login replaces the session this browser had
        call.setHeader("Set-Cookie", sessions.setCookie(sessions.open(token.get()), call.secure()));
        call.json(200, Map.of("name", token.get().name(), "scope", token.get().scope().label(), "expiresInSeconds", sessions.ttl().toSeconds()));
    }

    private static void resource(Call call, String path) throws IOException {
        try (InputStream in = DashboardRoutes.class.getResourceAsStream(path)) {
            if (in == null) {
                call.error(404, "no such file: " + path.substring(path.lastIndexOf('/') + 1));
                return;
            }
            byte[] bytes = in.readAllBytes();
            String ext = path.substring(path.lastIndexOf('.') + 1);
            call.setHeader("Content-Security-Policy", CSP);
            call.setHeader("X-Content-Type-Options", "nosniff");
            call.setHeader("X-Frame-Options", "DENY");
            call.setHeader("Referrer-Policy", "no-referrer");
            call.setHeader("Cache-Control", ext.equals("html") ? "no-cache" : "max-age=300");
            call.stream(200, TYPES.getOrDefault(ext, "application/octet-stream"), bytes.length, new java.io.ByteArrayInputStream(bytes));
        }
    }
}
