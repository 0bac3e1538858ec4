package dev.bunker.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import dev.bunker.config.BunkerConfig.TokenConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;

/** One HTTP request being answered: its path parameters, caller and body, and ways to reply. */
public final class Call {
    private final HttpExchange exchange;
    private final Matcher match;
    private final TokenConfig caller;
    private boolean replied;

    Call(HttpExchange exchange, Matcher match, TokenConfig caller) {
        this.exchange = exchange;
        this.match = match;
        this.caller = caller;
    }

    public String method() { return exchange.getRequestMethod(); }

    /** A named group of the route's pattern (e.g. the object key), percent-decoded. */
    public String param(String name) {
        String raw = match.group(name);
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException("the path has a malformed %-escape: " + raw);
        }
    }

    public String header(String name) { return exchange.getRequestHeaders().getFirst(name); }

    public Map<String, String> query() {
        Map<String, String> out = new LinkedHashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) return out;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    /** The token's name for audit records, or "anonymous" on public routes. */
    public String callerName() { return caller == null ? "anonymous" : caller.name(); }

    public InputStream body() { return exchange.getRequestBody(); }

    /** The request's Content-Length, or -1 when it is sent chunked. */
    public long contentLength() {
        String v = header("Content-Length");
        if (v == null) return -1;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new BadRequestException("Content-Length \"" + v + "\" is not a number");
        }
    }

    public boolean replied() { return replied; }

    public void json(int status, Object body) throws IOException {
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IOException(e);
        }
        send(status, "application/json", bytes);
    }

    public void text(int status, String contentType, String body) throws IOException {
        send(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    public void error(int status, String message) throws IOException {
        json(status, Map.of("error", message));
    }

    /** Replies with headers only (HEAD, 204...); {@code contentLength} is announced for HEAD, -1 for none. */
    public void empty(int status, long contentLength) throws IOException {
        replied = true;
        if (contentLength >= 0) exchange.getResponseHeaders().set("Content-Length", Long.toString(contentLength));
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }

    public void setHeader(String name, String value) {
        exchange.getResponseHeaders().set(name, value);
    }

    /** Streams {@code in} as the body; {@code length} -1 sends it chunked. */
    public void stream(int status, String contentType, long length, InputStream in) throws IOException {
        replied = true;
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, length < 0 ? 0 : (length == 0 ? -1 : length));
        try (OutputStream out = exchange.getResponseBody()) {
            in.transferTo(out);
        }
    }

    private void send(int status, String contentType, byte[] bytes) throws IOException {
        replied = true;
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
