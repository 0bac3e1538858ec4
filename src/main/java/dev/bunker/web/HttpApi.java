package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.HostPort;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Bunker's HTTP server (Jetty 12): routes requests, checks bearer tokens and scopes, and leaves
 * turning exceptions into status codes to {@link ErrorReplies}. Connections are NIO: an idle or
 * half-sent request holds no thread, and every connection is closed after {@link #IDLE_TIMEOUT}
 * without progress (headers, body or response alike).
 */
public final class HttpApi implements AutoCloseable {
    /** How long a connection may make no progress: a client sending half a request, or stalling mid-body, is cut off after this. */
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Open connections beyond this wait in the accept queue. */
    public static final int MAX_CONNECTIONS = 2_000;
    /** Request line plus headers; larger requests get 431. */
    public static final int MAX_HEADER_BYTES = 16 * 1024;
    /** A body arriving slower than this on average (a client trickling bytes to hold a thread) is cut off with 408. */
    public static final long MIN_BODY_BYTES_PER_SECOND = 4 * 1024;

    private final Server server;
    private final ServerConnector connector;
    private final Tokens tokens;
    private final List<Route> routes = new ArrayList<>();
    private Sessions sessions;
    private java.util.Set<String> uiWrites = java.util.Set.of();

    public HttpApi(HostPort listen, Tokens tokens, int threads) {
        this(listen, tokens, threads, IDLE_TIMEOUT);
    }

    /** With another idle timeout (tests use a short one to see a stalled client cut off). */
    public HttpApi(HostPort listen, Tokens tokens, int threads, Duration idleTimeout) {
        this.tokens = tokens;
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(threads, 8) + 8, 4); // + Jetty's own selector and acceptor threads
        pool.setName("http");
        pool.setDaemon(true);
        this.server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setRequestHeaderSize(MAX_HEADER_BYTES);
        http.setSendServerVersion(false);
        http.setIdleTimeout(idleTimeout.toMillis());
        // Keys arrive percent-encoded and may contain %2F, %00 or invalid UTF-8: Call decodes and judges them itself,
        // so every refusal is a JSON 400 naming the rule rather than a bare error page.
        http.setUriCompliance(UriCompliance.UNSAFE);
        http.setHttpCompliance(HttpCompliance.RFC9110);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(listen.host());
        connector.setPort(listen.port());
        connector.setIdleTimeout(idleTimeout.toMillis());
        connector.setAcceptQueueSize(512);
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, server));
        server.setErrorHandler(new ErrorReplies.JettyErrors());
        server.setHandler(new MinimumDataRateHandler(new Dispatch(), MIN_BODY_BYTES_PER_SECOND, 0));
        server.setStopTimeout(2_000);
    }

    /**
     * Lets the dashboard's sessions call the API's routes under {@code /ui/v1/...}: every GET, and the few changes the page
     * makes ({@code writes}: paths such as {@code /v1/jobs/retry}), with the same scopes; a change needs the
     * {@value #UI_HEADER} header, which a cross-site form cannot send. {@code /v1} itself stays bearer-token only.
     */
    public HttpApi sessions(Sessions s, java.util.Set<String> writes) {
        this.sessions = s;
        this.uiWrites = writes;
        return this;
    }

    /** The header a dashboard call that changes something must carry: a cross-site page can neither send it nor read the answer. */
    public static final String UI_HEADER = "X-Bunker-UI";

    public HttpApi add(List<Route> more) {
        routes.addAll(more);
        return this;
    }

    public void start() {
        try {
            server.start();
        } catch (Exception e) {
            String what = "unable to listen on " + connector.getHost() + ":" + connector.getPort() + ": " + e.getMessage()
                    + "; pick another address with --listen HOST:PORT or `listen:` in the config";
            try {
                server.stop();
            } catch (Exception ignored) {
                // nothing started
            }
            throw new UncheckedIOException(what, e instanceof java.io.IOException io ? io : new java.io.IOException(e));
        }
    }

    public URI uri() {
        String host = connector.getHost() == null || connector.getHost().equals("0.0.0.0") || connector.getHost().equals("::")
                ? "127.0.0.1" : connector.getHost();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + connector.getLocalPort());
    }

    /** The address actually bound (port 0 in the config picks a free one). */
    public InetSocketAddress address() {
        return new InetSocketAddress(uri().getHost(), connector.getLocalPort());
    }

    private final class Dispatch extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Call call = route(request, response, callback);
            call.finish();
            return true;
        }
    }

    private Call route(Request request, Response response, Callback callback) {
        // Match on the raw path: a key may carry an encoded '/' (%2F), which keeps it apart from suffix routes like /copies.
        String rawPath = request.getHttpURI().getPath();
        boolean ui = sessions != null && rawPath.startsWith("/ui/v1/");
        String path = ui ? rawPath.substring(3) : rawPath;
        String method = request.getMethod();
        Route route = null;
        Matcher match = null;
        boolean pathKnown = false;
        // HEAD is answered by the GET route when no HEAD route exists.
        for (String wanted : method.equals("HEAD") ? List.of("HEAD", "GET") : List.of(method)) {
            for (Route r : routes) {
                Matcher m = r.path().matcher(path);
                if (!m.matches()) continue;
                pathKnown = true;
                if (route == null && r.method().equals(wanted)) {
                    route = r;
                    match = m;
                }
            }
            if (route != null) break;
        }
        if (route == null) {
            Call call = new Call(request, response, callback, null, null);
            call.errorQuietly(pathKnown ? 405 : 404, pathKnown ? method + " is not allowed on " + path : "no such endpoint: " + path);
            return call;
        }
        TokenConfig caller = route.scope() == null ? null
                : (ui ? sessions.find(request.getHeaders().get("Cookie")) : tokens.authenticate(request.getHeaders().get("Authorization"))).orElse(null);
        Call call = new Call(request, response, callback, match, caller);
        if (ui ? refusedToSession(call, route, method, path, rawPath) : refusedToToken(call, route, method, path)) return call;
        try {
            route.handler().handle(call);
        } catch (Exception e) {
            ErrorReplies.reply(call, method, rawPath, e);
        }
        return call;
    }

    /** A /v1 call: a route with a scope needs a bearer token that has it. True (and answered) if refused. */
    private static boolean refusedToToken(Call call, Route route, String method, String path) {
        if (route.scope() == null) return false;
        TokenConfig caller = call.caller();
        if (caller == null) {
            call.setHeader("WWW-Authenticate", "Bearer");
            call.errorQuietly(401, "missing or invalid API token; send Authorization: Bearer TOKEN");
            return true;
        }
        if (!caller.scope().allows(route.scope())) {
            call.errorQuietly(403, "token '" + caller.name() + "' has scope " + caller.scope().label() + "; " + method + " " + path + " needs "
                    + route.scope().label());
            return true;
        }
        return false;
    }

    /**
     * A /ui/v1 call: a live session, whose token has the route's scope; a change only to what the page changes, with the
     * {@value #UI_HEADER} header, from the dashboard's own page. True (and answered) if refused.
     */
    private boolean refusedToSession(Call call, Route route, String method, String path, String rawPath) {
        call.setHeader("Cache-Control", "no-store");
        TokenConfig caller = call.caller();
        if (caller == null) {
            call.errorQuietly(401, "not logged in, or the session expired; log in at / with an API token");
            return true;
        }
        boolean read = List.of("GET", "HEAD").contains(method);
        if (!read && !uiWrites.contains(path)) {
            call.errorQuietly(403, method + " " + path + " is not open to dashboard sessions; use the API with a bearer token");
            return true;
        }
        if (!read && (!"1".equals(call.header(UI_HEADER)) || call.crossSite())) {
            call.errorQuietly(403, method + " " + rawPath + " from the dashboard needs the header " + UI_HEADER + ": 1, from the dashboard's own page");
            return true;
        }
        if (!caller.scope().allows(route.scope())) {
            call.errorQuietly(403, "you are logged in with token '" + caller.name() + "' (scope " + caller.scope().label() + "); " + method + " "
                    + path + " needs " + route.scope().label());
            return true;
        }
        return false;
    }

    /** Stops accepting, gives running requests up to {@code graceSeconds} to finish. */
    public void stop(int graceSeconds) {
        server.setStopTimeout(Math.max(1, graceSeconds) * 1000L);
        try {
            server.stop();
        } catch (Exception e) {
            // stopping anyway: what could not stop cleanly is daemon threads
        }
    }

    @Override
    public void close() {
        stop(1);
    }
}
