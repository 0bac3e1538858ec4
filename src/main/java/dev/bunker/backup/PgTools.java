package dev.bunker.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds pg_dump, pg_restore, pg_basebackup and pg_waldump of the server's major version and checks they are that version. */
public final class PgTools {
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");
    /** Tools Debian ships with the server, not the client package. */
    private static final java.util.Set<String> SERVER_TOOLS = java.util.Set.of("pg_waldump", "pg_ctl", "postgres", "initdb");

    private PgTools() {}

    /** The path of {@code tool} (pg_dump, pg_restore) for PostgreSQL {@code major}; {@code configured} is backups.pg-bin. */
    public static Path find(String tool, int major, Path configured) throws IOException {
        List<Path> candidates = new ArrayList<>();
        if (configured != null) {
            candidates.add(configured.resolve(tool));
        } else {
            candidates.add(Path.of("/usr/lib/postgresql/" + major + "/bin/" + tool));
            String path = System.getenv("PATH");
            if (path != null) for (String dir : path.split(":")) if (!dir.isEmpty()) candidates.add(Path.of(dir, tool));
        }
        List<String> seen = new ArrayList<>();
        for (Path p : candidates) {
            if (!Files.isExecutable(p)) continue;
            int v = majorOf(p);
            if (v == major) return p;
            seen.add(p + " (version " + v + ")");
        }
        String pkg = SERVER_TOOLS.contains(tool) ? "postgresql-" + major : "postgresql-client-" + major;
        throw new IOException(tool + " for PostgreSQL " + major + " not found" + (seen.isEmpty() ? "" : "; found only " + String.join(", ", seen))
                + "; install the Debian package " + pkg + " (apt-get install " + pkg + ")"
                + (configured == null ? " or set backups.pg-bin to its folder" : " or fix backups.pg-bin (" + configured + ")"));
    }

    /** The major version of the server {@code s} is connected to, whose tools {@link #find} looks for. */
    public static int serverMajor(java.sql.Statement s) throws java.sql.SQLException {
        try (java.sql.ResultSet rs = s.executeQuery("select current_setting('server_version_num')::int")) {
            rs.next();
            return rs.getInt(1) / 10000;
        }
    }

    static int majorOf(Path binary) throws IOException {
        Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Matcher m = VERSION.matcher(out);
        if (!m.find()) throw new IOException("cannot tell the version of " + binary + " from \"" + out.strip() + "\"");
        return Integer.parseInt(m.group(1));
    }
}
