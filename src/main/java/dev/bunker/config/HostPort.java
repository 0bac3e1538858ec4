package dev.bunker.config;

/** A listen address such as {@code 127.0.0.1:8080}, {@code [::1]:8080} or {@code :8080} (all interfaces). */
public record HostPort(String host, int port) {
    public static final String EXPECTED = "HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free port)";

    public static HostPort parse(String text) {
        String t = text == null ? "" : text.trim();
        int colon = t.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("\"" + text + "\" is not an address; expected " + EXPECTED);
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty()) host = "0.0.0.0";
        try {
            int port = Integer.parseInt(t.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
            return new HostPort(host, port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" has no valid port; expected " + EXPECTED);
        }
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
