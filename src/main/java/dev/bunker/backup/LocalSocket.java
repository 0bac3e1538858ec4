package dev.bunker.backup;

import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The unix socket of a restore target on this machine: loading a dump through it costs less CPU than
 * through TCP on loopback. Used only when the server listens on a socket in one of its
 * {@code unix_socket_directories} or the usual folders AND pg_restore can log in through it (the server may authenticate socket connections differently):
 * otherwise the restore goes over TCP as given.
 */
public final class LocalSocket {
    /** A way to the target through its socket in {@code folder}: the libpq URL for pg_restore. */
    public record Found(String folder, String url) {}

    private static final List<String> FOLDERS = List.of("/var/run/postgresql", "/run/postgresql", "/tmp");

    private LocalSocket() {}

    /**
     * The server's {@code unix_socket_directories}, or null when this login may not read it (it needs
     * pg_read_all_settings): then the usual folders are looked at.
     */
    public static String serverFolders(java.sql.Statement s) {
        try (java.sql.ResultSet rs = s.executeQuery("select current_setting('unix_socket_directories')")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (java.sql.SQLException notAllowed) {
            return null;
        }
    }

    /**
     * A libpq URL for {@code target} over its local socket, if it has one pg_restore can log in through;
     * {@code serverFolders}: the server's own {@code unix_socket_directories} (comma-separated), tried first.
     */
    public static Optional<Found> of(Conninfo target, String serverFolders, Path pgRestore, Path dump, Map<String, String> env) {
        if (!List.of("127.0.0.1", "localhost", "::1", "[::1]").contains(target.host())) return Optional.empty();
        java.util.LinkedHashSet<String> folders = new java.util.LinkedHashSet<>();
        if (serverFolders != null) {
            for (String f : serverFolders.split(",")) if (f.trim().startsWith("/")) folders.add(f.trim());
        }
        folders.addAll(FOLDERS);
        for (String folder : folders) {
            if (folder.contains("&") || folder.contains("?") || folder.contains(" ")) continue; // not safe inside a URL
            if (!Files.exists(Path.of(folder, ".s.PGSQL." + target.port()))) continue;
            String url = "postgresql://" + (target.user() == null ? "" : target.user() + "@") + "/" + target.database()
                    + "?host=" + folder + "&port=" + target.port();
            if (canLogIn(url, pgRestore, dump, env)) return Optional.of(new Found(folder, url));
        }
        return Optional.empty();
    }

    /** pg_restore with an empty list connects, restores nothing, and says whether the login worked. */
    private static boolean canLogIn(String url, Path pgRestore, Path dump, Map<String, String> env) {
        Path emptyList = null;
        try {
            emptyList = Files.createTempFile(dump.getParent(), "empty", ".list");
            ToolProcess probe = ToolProcess.start("pg_restore", List.of(pgRestore.toString(), "--no-password", "-L", emptyList.toString(),
                    "-d", url, dump.toString()), env);
            probe.stdout().transferTo(OutputStream.nullOutputStream());
            probe.awaitSuccess();
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            try {
                if (emptyList != null) Files.deleteIfExists(emptyList);
            } catch (IOException ignored) {
                // in the restore's private temp folder, removed with it
            }
        }
    }
}
