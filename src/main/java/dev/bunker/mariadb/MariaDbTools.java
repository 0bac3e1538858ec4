package dev.bunker.mariadb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the MariaDB client tools ({@code mariadb-dump}, {@code mariadb}, or their MySQL-era names {@code mysqldump},
 * {@code mysql}) on the PATH or in {@code backups.mariadb-bin}, and refuses a client older than the server it talks to (an
 * older dump client can miss what a newer server has).
 */
public final class MariaDbTools {
    private static final Pattern VERSION = Pattern.compile("(?:Distrib |from |server )(\\d+)\\.(\\d+)\\.(\\d+)");
    private static final Pattern SERVER = Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)");

    private MariaDbTools() {}

    /** A found tool: its path and the version it reports ("10.11.19"). */
    public record Tool(Path path, String version) {}

    /** {@code names}: the tool's names, preferred first ({@code mariadb-dump}, {@code mysqldump}); {@code serverVersion}: {@code select version()}. */
    public static Tool find(List<String> names, String serverVersion, Path configured) throws IOException {
        int[] server = parts(SERVER.matcher(serverVersion));
        boolean mariaDbServer = serverVersion.contains("MariaDB");
        List<String> tooOld = new ArrayList<>();
        for (Path p : candidates(names, configured)) {
            String version = versionOf(p);
            int[] client = parts(VERSION.matcher(version));
            if (client == null) throw new IOException("cannot tell the version of " + p + " from \"" + version + "\"");
            String v = client[0] + "." + client[1] + "." + client[2];
            if (mariaDbServer && server != null && (client[0] < server[0] || client[0] == server[0] && client[1] < server[1])) {
                tooOld.add(p + " (" + v + ")");
                continue;
            }
            return new Tool(p, v);
        }
        String wanted = mariaDbServer && server != null ? " of MariaDB " + server[0] + "." + server[1] + " or newer" : "";
        throw new IOException(names.get(0) + wanted + " not found" + (tooOld.isEmpty() ? "" : "; found only older clients: " + String.join(", ", tooOld))
                + install(names.get(0), configured));
    }

    /** A tool that reports no server version ({@code mariadb-binlog}): the first of {@code names} found. */
    public static Tool findAny(List<String> names, Path configured) throws IOException {
        List<Path> found = candidates(names, configured);
        if (found.isEmpty()) throw new IOException(names.get(0) + " not found" + install(names.get(0), configured));
        return new Tool(found.get(0), "");
    }

    /** The executables named {@code names} (in that order) in {@code backups.mariadb-bin}, else on the PATH. */
    private static List<Path> candidates(List<String> names, Path configured) {
        List<Path> out = new ArrayList<>();
        for (String name : names) {
            if (configured != null) {
                out.add(configured.resolve(name));
            } else {
                String path = System.getenv("PATH");
                if (path != null) for (String dir : path.split(":")) if (!dir.isEmpty()) out.add(Path.of(dir, name));
            }
        }
        out.removeIf(p -> !Files.isExecutable(p));
        return out;
    }

    /** How to get {@code tool}: mariadb-backup and mbstream come in their own Debian package, the rest with the client. */
    private static String install(String tool, Path configured) {
        String pkg = tool.equals("mariadb-backup") || tool.equals("mbstream") ? "mariadb-backup" : "mariadb-client";
        return "; install it (Debian: apt-get install " + pkg + ")"
                + (configured == null ? " or set backups.mariadb-bin to its folder" : " or fix backups.mariadb-bin (" + configured + ")");
    }

    private static int[] parts(Matcher m) {
        if (!m.find()) return null;
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
    }

    private static String versionOf(Path binary) throws IOException {
        Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
