package dev.bunker.web;

import dev.bunker.json.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.bunker.config.BunkerConfig.TokenConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * One HTTP request being answered: its path parameters (strictly decoded), caller and body, and
 * ways to reply. Blocking: a route answers on its own thread and returns; {@link #finish} then
 * completes the exchange, or aborts the connection if a streamed body failed part-way, so the
 * client sees an incomplete response instead of a short one that looks whole.
 */
public final class Call {
    private static final int STREAM_BUFFER = 256 * 1024;

    private final Request request;
    private final Response response;
    private final Callback callback;
    private final Matcher match;
    private final TokenConfig caller;
    private boolean replied;
    private Throwable aborted;
    private InputStream body;

    Call(Request request, Response response, Callback callback, Matcher match, TokenConfig caller) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.match = match;
        this.caller = caller;
    }

    public String method() { return request.getMethod(); }

    /** A named group of the route's pattern, percent-decoded as UTF-8; malformed escapes or bytes are a 400. */
    public String param(String name) {
        return PercentDecoding.decode(match.group(name), "the path", false);
    }

    public String header(String name) { return request.getHeaders().get(name); }

    /**
     * Whether a browser says this request comes from a page of another site ({@code Sec-Fetch-Site}, or an {@code Origin}
     * naming another host than the one asked): such a page may not log in, log out or change anything through a session.
     */
    public boolean crossSite() {
        String fetchSite = header("Sec-Fetch-Site");
        if ("cross-site".equals(fetchSite) || "same-site".equals(fetchSite)) return true;
        String origin = header("Origin");
        if (origin == null) return false; // not a browser's cross-origin call (curl, scripts)
        String host = header("Host");
        return host == null || !(origin.equals("http://" + host) || origin.equals("https://" + host));
    }

    /** Whether the client reached Bunker over TLS (directly, or through a proxy that says so). */
    public boolean secure() {
        return request.isSecure() || "https".equalsIgnoreCase(header("X-Forwarded-Proto"));
    }

    /** The query parameters, strictly decoded ('+' is a space, as in forms). */
    public Map<String, String> query() {
        Map<String, String> out = new LinkedHashMap<>();
        String raw = request.getHttpURI().getQuery();
        if (raw == null || raw.isEmpty()) return out;
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = PercentDecoding.decode(eq < 0 ? pair : pair.substring(0, eq), "the query", true);
            String v = eq < 0 ? "" : PercentDecoding.decode(pair.substring(eq + 1), "the query", true);
            out.put(k, v);
        }
        return out;
    }

    /** A whole-number query parameter from 1 to {@code max} ({@code dflt} when absent); anything else is the caller's fault. */
    public int limit(String name, int dflt, int max) {
        String text = query().get(name);
        if (text == null) return dflt;
        try {
            int n = Integer.parseInt(text);
            if (n < 1 || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequestException(name + " must be a whole number from 1 to " + max + ", got \"" + text + "\"");
        }
    }

    /** The token the call came with (null on public routes). */
    public TokenConfig caller() { return caller; }

    /** The token's name for audit records, or "anonymous" on public routes. */
    public String callerName() { return caller == null ? "anonymous" : caller.name(); }

    /**
     * The request body. A client that stops sending for {@link HttpApi#IDLE_TIMEOUT} or closes the
     * connection before its Content-Length makes reads fail with {@link ClientBodyException}.
     */
    public InputStream body() {
        if (body == null) body = new ClientBodyException.Guarded(Content.Source.asInputStream(request), contentLength());
        return body;
    }

    /** A small body (a form or JSON) as UTF-8 text; one longer than {@code max} bytes is refused as the caller's fault. */
    public String smallBody(int max) throws IOException {
        long announced = contentLength();
        if (announced > max) throw new BadRequestException("the body has " + announced + " bytes; at most " + max + " are accepted here");
        byte[] bytes = body().readNBytes(max + 1);
        if (bytes.length > max) throw new BadRequestException("the body is longer than " + max + " bytes, the most accepted here");
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The request's Content-Length, or -1 when it is sent chunked. */
    public long contentLength() {
        String v = header("Content-Length");
        if (v == null) return -1;
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequestException("Content-Length \"" + v + "\" is not a number of bytes");
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

    /** As {@link #error}, for answers given before any route ran (a failed write only means the client left). */
    void errorQuietly(int status, String message) {
        try {
            error(status, message);
        } catch (IOException e) {
            aborted = e;
        }
    }

    /** Replies with headers only (HEAD, 204...); {@code contentLength} is announced for HEAD, -1 for none. */
    public void empty(int status, long contentLength) {
        replied = true;
        response.setStatus(status);
        if (contentLength >= 0) response.getHeaders().put(HttpHeader.CONTENT_LENGTH, contentLength);
    }

    public void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    /**
     * Streams {@code in} as the body with the given length. If {@code in} fails part-way (a copy found
     * corrupt while streaming), the exchange is aborted: the client gets fewer bytes than announced
     * and a reset connection, which every HTTP client reports as an error.
     */
    public void stream(int status, String contentType, long length, InputStream in) throws IOException {
        replied = true;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        if (length >= 0) response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        OutputStream out = Content.Sink.asOutputStream(response);
        byte[] buf = new byte[STREAM_BUFFER];
        try {
            int n;
            while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
        } catch (IOException | RuntimeException e) {
            aborted = e;
            throw e;
        }
        out.close();
    }

    private void send(int status, String contentType, byte[] bytes) throws IOException {
        replied = true;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        Content.Sink.write(response, true, ByteBuffer.wrap(bytes));
    }

    /** The route has returned: complete the exchange, or abort it if its body could not be sent whole. */
    void finish() {
        if (aborted != null) callback.failed(aborted);
        else callback.succeeded();
    }

    /** The response is already streaming and must be cut short rather than answered with an error. */
    void abort(Throwable cause) {
        aborted = cause;
    }
}
