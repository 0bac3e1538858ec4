package dev.bunker.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.HostPort;
import dev.bunker.db.DatabaseUnavailableException;
import dev.bunker.store.InvalidKeyException;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.StoreException;
import dev.bunker.store.StoreUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bunker's HTTP server (the JDK's built-in one): routes requests, checks bearer tokens and scopes,
 * and turns domain exceptions into status codes with a JSON {@code {"error": ...}} body.
 */
public final class HttpApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final Tokens tokens;
    private final List<Route> routes = new ArrayList<>();

    public HttpApi(HostPort listen, Tokens tokens, int threads) {
        this.tokens = tokens;
        try {
            this.server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 128);
        } catch (IOException e) {
            throw new UncheckedIOException("unable to listen on " + listen + ": " + e.getMessage()
                    + "; pick another address with --listen HOST:PORT or `listen:` in the config", e);
        }
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::dispatch);
    }

    public HttpApi add(List<Route> more) {
        routes.addAll(more);
        return this;
    }

    public void start() { server.start(); }

    public URI uri() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getHostString();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
    }

    private void dispatch(HttpExchange ex) {
        // Match on the raw path: a key may carry an encoded '/' (%2F), which keeps it apart from suffix routes like /copies.
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        Call call = null;
        try {
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
                call = new Call(ex, null, null);
                if (pathKnown) call.error(405, method + " is not allowed on " + path);
                else call.error(404, "no such endpoint: " + path);
                return;
            }
            TokenConfig caller = null;
            if (route.scope() != null) {
                Optional<TokenConfig> token = tokens.authenticate(ex.getRequestHeaders().getFirst("Authorization"));
                if (token.isEmpty()) {
                    call = new Call(ex, match, null);
                    call.setHeader("WWW-Authenticate", "Bearer");
                    call.error(401, "missing or invalid API token; send Authorization: Bearer TOKEN");
                    return;
                }
                caller = token.get();
                if (!caller.scope().allows(route.scope())) {
                    call = new Call(ex, match, caller);
                    call.error(403, "token '" + caller.name() + "' has scope " + caller.scope().name().toLowerCase()
                            + "; " + method + " " + path + " needs " + route.scope().name().toLowerCase());
                    return;
                }
            }
            call = new Call(ex, match, caller);
            route.handler().handle(call);
        } catch (Exception e) {
            replyWithError(call == null ? new Call(ex, null, null) : call, method, path, e);
        } finally {
            ex.close();
        }
    }

    private static void replyWithError(Call call, String method, String path, Exception e) {
        int status;
        if (e instanceof BadRequestException || e instanceof InvalidKeyException) status = 400;
        else if (e instanceof ObjectNotFoundException) status = 404;
        else if (e instanceof ObjectLockedException) status = 409;
        else if (e instanceof StoreUnavailableException || e instanceof DatabaseUnavailableException) status = 503;
        else if (e instanceof StoreException) status = 502;
        else status = 500;
        if (status >= 500) LOG.warn("{} {} failed: {}", method, path, e.toString(), status == 500 ? e : null);
        if (call.replied()) return; // the body was already streaming; closing the exchange cuts it short
        try {
            call.error(status, e.getMessage() == null ? e.toString() : e.getMessage());
        } catch (IOException ignored) {
            // the client went away
        }
    }

    /** Stops accepting, gives running requests up to {@code graceSeconds} to finish. */
    public void stop(int graceSeconds) {
        server.stop(graceSeconds);
        executor.shutdown();
        try {
            executor.awaitTermination(graceSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }

    @Override
    public void close() {
        stop(1);
    }
}
