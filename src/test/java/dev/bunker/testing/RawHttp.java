package dev.bunker.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP over a plain socket, byte for byte as written: no client library normalises "a/../b", re-encodes
 * a path or completes a body it was told to leave short. For tests of what hostile clients send.
 */
public final class RawHttp {
    /** A response as received: status, headers (lower-case names), the body bytes that arrived, and whether it ended cleanly. */
    public record Reply(int status, Map<String, String> headers, byte[] body, boolean complete) {
        public String text() { return new String(body, StandardCharsets.UTF_8); }
    }

    private RawHttp() {}

    /** Sends {@code requestHead} (request line and headers, without the blank line) and {@code body}, then reads the reply. */
    public static Reply send(URI server, String requestHead, byte[] body, boolean closeOutputAfterBody) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(server.getHost(), server.getPort()), 5_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write((requestHead + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            try {
                if (body != null) s.getOutputStream().write(body);
                s.getOutputStream().flush();
                if (closeOutputAfterBody) s.shutdownOutput();
            } catch (java.net.SocketException e) {
                // The server answered and closed before taking the whole body (a refusal that need not read it): read the answer.
            }
            return read(s.getInputStream());
        }
    }

    public static Reply get(URI server, String rawPath, String token) throws IOException {
        return send(server, "GET " + rawPath + " HTTP/1.1\r\nHost: localhost\r\nConnection: close"
                + (token == null ? "" : "\r\nAuthorization: Bearer " + token), null, false);
    }

    private static Reply read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        int state = 0;
        while (state < 4 && (b = in.read()) >= 0) {
            head.write(b);
            state = (b == '\r' || b == '\n') ? state + 1 : 0;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        long expected = headers.containsKey("content-length") ? Long.parseLong(headers.get("content-length")) : -1;
        byte[] buf = new byte[64 * 1024];
        boolean complete;
        try {
            int n;
            while ((expected < 0 || body.size() < expected) && (n = in.read(buf, 0, (int) Math.min(buf.length,
                    expected < 0 ? buf.length : expected - body.size()))) > 0) {
                body.write(buf, 0, n);
            }
            complete = expected < 0 || body.size() == expected;
        } catch (IOException e) {
            complete = false; // a reset connection: the server cut the response short
        }
        return new Reply(status, headers, body.toByteArray(), complete);
    }
}
