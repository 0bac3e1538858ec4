package dev.bunker.mariadb;

import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A MariaDB or MySQL database a dump is restored into: created when missing (once the backup is verified), refused when it already has tables (unless
 * the caller cleans: the dump drops and recreates each of its own tables), and loaded with the {@code mariadb} client. A dump of
 * several databases goes into a server ({@code url} without a database): it creates each of its databases by name, and
 * each of them that has tables already is refused unless cleaned.
 */
public final class MariaDbTarget {
    private final MariaDbUrl url;
    private final List<String> databases;

    /** {@code databases}: those a dump of several holds (ignored when {@code url} names one database). */
    public MariaDbTarget(MariaDbUrl url, List<String> databases) {
        this.url = url;
        this.databases = url.database() != null ? List.of(url.database()) : List.copyOf(databases);
    }

    /** The server's version; refuses a database with tables unless {@code clean}. Changes nothing ({@link #createIfMissing} does). */
    public String check(boolean clean) throws SQLException, IOException {
        String fix = "check --target (mariadb://USER@HOST:PORT/DB; password in MYSQL_PWD)";
        try (Connection c = MariaDbSource.connect(url.withDatabase(null), "the restore target", fix); Statement s = c.createStatement()) {
            String version;
            try (ResultSet rs = s.executeQuery("select version()")) {
                rs.next();
                version = rs.getString(1);
            }
            for (String db : databases) {
                long tables = -1;
                try (PreparedStatement ps = c.prepareStatement("select (select count(*) from information_schema.schemata where schema_name = ?), "
                        + "(select count(*) from information_schema.tables where table_schema = ?)")) {
                    ps.setString(1, db);
                    ps.setString(2, db);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) > 0) tables = rs.getLong(2);
                    }
                }
                if (tables > 0 && !clean) {
                    throw new IOException("target database " + url.withDatabase(db) + " is not empty (" + tables + " tables and views); restore into "
                            + (url.database() == null ? "a server without the backup's databases (" + String.join(", ", databases) + ")" : "an empty database")
                            + ", or pass --clean to drop and replace what the backup contains");
                }
            }
            return version;
        }
    }

    /** Creates the database when the server has none of that name (once the backup is verified, just before loading it). */
    public void createIfMissing(Consumer<String> progress) throws SQLException {
        if (url.database() == null) return; // a dump of several databases creates each
        String fix = "check --target (mariadb://USER@HOST:PORT/DB; password in MYSQL_PWD)";
        try (Connection c = MariaDbSource.connect(url.withDatabase(null), "the restore target", fix); Statement s = c.createStatement()) {
            // the name is checked by MariaDbUrl: no backtick in it
            if (s.executeUpdate("create database if not exists `" + url.database() + "`") > 0) progress.accept("created database " + url.database());
        }
    }

    /** Feeds {@code dump} (plain SQL) to the {@code mariadb} client, reporting progress every 64 MiB; fails with the client's words. */
    public void load(Path client, Path dump, Consumer<String> progress) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(client.toString(), "--no-defaults"));
        cmd.addAll(url.toolArgs());
        cmd.add("--batch");
        if (url.database() != null) cmd.add("--database=" + url.database());
        ToolProcess p = ToolProcess.start("mariadb", cmd, url.toolEnv());
        long total = Files.size(dump);
        long sent = 0;
        try (InputStream in = Files.newInputStream(dump); OutputStream out = p.stdin()) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                long before = sent;
                sent += n;
                if (before >> 26 != sent >> 26) progress.accept(String.format("loading: %.1f of %.1f MB", sent / 1e6, total / 1e6));
            }
        } catch (IOException e) {
            p.awaitSuccess(); // a client that stopped reading has said why on stderr
            throw e;
        } finally {
            p.stdout().transferTo(OutputStream.nullOutputStream());
        }
        p.awaitSuccess();
    }
}
