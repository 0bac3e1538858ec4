package dev.bunker.pitr;

import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL server on a data directory that a point-in-time restore wrote: started, waited for until it has replayed
 * the WAL and promoted itself, and asked (its log) what it recovered to. PostgreSQL refuses to run as root: as root it
 * runs in a user namespace ({@code unshare -U}), as the drills' servers do.
 */
public final class RestoredServer {
    private static final Pattern STOPPED_BEFORE = Pattern.compile("recovery stopping before (?:commit|abort) of transaction \\d+, time (\\S+ \\S+)");
    private static final Pattern LAST_COMPLETED = Pattern.compile("last completed transaction was at log time (\\S+ \\S+)");
    private static final String READY = "database system is ready to accept connections";

    private RestoredServer() {}

    /** A server left running: its process id, port, log, and the time of the last transaction it replayed (null: none said). */
    public record Started(long pid, int port, Path log, String lastTransactionAt, double seconds) {}

    /**
     * {@code postgres -D dataDir} with {@code settings} as {@code -c} options; in a user namespace when run as root, and in
     * a session of its own when {@code detach} (it outlives the command that started it and a Ctrl-C at its terminal).
     */
    public static List<String> command(Path postgres, Path dataDir, Map<String, String> settings, boolean detach) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (detach) cmd.add("setsid");
        if (runningAsRoot() && LinuxUtils.isUnshareAvailable()) cmd.addAll(List.of("unshare", "-U"));
        cmd.addAll(List.of(postgres.toString(), "-D", dataDir.toString()));
        settings.forEach((k, v) -> {
            cmd.add("-c");
            cmd.add(k + "=" + v);
        });
        return cmd;
    }

    /**
     * What every restored server runs with, whatever it listens on: the configuration files of its own directory, no
     * logging collector (its output goes to one log file), and {@code ssl} and {@code shared_preload_libraries} off, since
     * the source's certificates and libraries need not be on this machine.
     */
    public static Map<String, String> baseSettings(Path dataDir) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("logging_collector", "off");
        settings.put("config_file", dataDir.resolve("postgresql.conf").toString());
        settings.put("hba_file", dataDir.resolve("pg_hba.conf").toString());
        settings.put("ident_file", dataDir.resolve("pg_ident.conf").toString());
        settings.put("ssl", "off");
        settings.put("shared_preload_libraries", "");
        return settings;
    }

    public static boolean runningAsRoot() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    }

    /**
     * Starts the restored server on 127.0.0.1:{@code port} (0: a free one), no unix socket, with the directory's own
     * configuration files (minimal ones where the backup had none, as a Debian cluster's has: passwords over TCP only),
     * and waits until it accepts connections after its promotion. It keeps running after this returns.
     */
    public static Started startForUse(Path postgres, Path dataDir, int port, Consumer<String> progress) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        writeIfMissing(dataDir.resolve("pg_hba.conf"), "# written by bunker db restore: the restored server's own roles and passwords, over TCP\n"
                + "host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n");
        writeIfMissing(dataDir.resolve("pg_ident.conf"), "");
        writeIfMissing(dataDir.resolve("postgresql.conf"), "# written by bunker db restore (the backup had none)\n");
        int chosen = port != 0 ? port : freePort();
        Map<String, String> settings = baseSettings(dataDir);
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("port", Integer.toString(chosen));
        settings.put("unix_socket_directories", "");
        Path log = dataDir.resolve("bunker_restore.log");
        Process server = new ProcessBuilder(command(postgres, dataDir, settings, true)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long nextReport = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(READY)) return new Started(server.pid(), chosen, log, recoveredTo(text), (System.nanoTime() - t0) / 1e9);
            if (!server.isAlive()) throw new PitrException("the restored server stopped before it promoted: " + tail(text), false);
            if (System.nanoTime() > nextReport) {
                progress.accept("replaying: " + count(text, "restored log file") + " WAL segment(s) so far (" + log + ")");
                nextReport = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            }
            Thread.sleep(200);
        }
    }

    /** What PostgreSQL said it stopped at: the first transaction it left out, or the last one it replayed. */
    static String recoveredTo(String log) {
        Matcher before = STOPPED_BEFORE.matcher(log);
        if (before.find()) return "before the transaction committed at " + before.group(1);
        String last = null;
        Matcher completed = LAST_COMPLETED.matcher(log);
        while (completed.find()) last = completed.group(1);
        return last == null ? null : "through the transaction committed at " + last;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
        return n;
    }

    private static void writeIfMissing(Path file, String text) throws IOException {
        if (Files.exists(file)) return;
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardOpenOption.WRITE);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The end of a server's log, for an error message. */
    public static String tail(String text) {
        return text.length() > 1500 ? text.substring(text.length() - 1500) : text;
    }
}
