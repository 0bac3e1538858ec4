package dev.bunker.mariadb;

import dev.bunker.tools.ToolProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Physical backups of a MariaDB server with {@code mariadb-backup}: a copy of its data files (all databases) taken while
 * it runs, streamed as xbstream; restored by {@code mbstream -x} into a new folder and {@code mariadb-backup --prepare},
 * after which {@code mariadbd --datadir} starts on it. It reads the server's files, so it runs on the server's machine.
 */
public final class MariaDbPhysical {
    private static final Pattern BINLOG = Pattern.compile("binlog position: filename '([^']+)', position '(\\d+)'(?:, GTID of the last change '([^']*)')?");

    private MariaDbPhysical() {}

    /** The GRANTs mariadb-backup needs (none of them changes data). */
    public static String grantAdvice(MariaDbUrl url) {
        return "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO '" + (url.user() == null ? "backup" : url.user()) + "'@'localhost';";
    }

    /** Starts {@code mariadb-backup --backup --stream=xbstream}; {@code workDir} (private, empty) holds its few temporary files. */
    public static ToolProcess startBackup(Path tool, MariaDbUrl url, Path workDir) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "--backup", "--stream=xbstream", "--target-dir=" + workDir));
        cmd.addAll(url.toolArgs());
        return ToolProcess.start("mariadb-backup", cmd, url.toolEnv());
    }

    /** The binary log position mariadb-backup reported on stderr (null: the server's log is off). */
    public static BinlogPosition binlogPosition(String stderr) {
        Matcher m = BINLOG.matcher(stderr);
        BinlogPosition last = null;
        while (m.find()) last = new BinlogPosition(m.group(1), Long.parseLong(m.group(2)), m.group(3));
        return last;
    }

    /** Unpacks an xbstream read from {@code plain} into {@code dir} with {@code mbstream -x}, reading {@code plain} to its end. */
    public static void extract(Path mbstream, InputStream plain, Path dir) throws IOException {
        ToolProcess x = ToolProcess.start("mbstream", List.of(mbstream.toString(), "-x", "-C", dir.toString()), Map.of());
        try (OutputStream in = x.stdin()) {
            plain.transferTo(in);
        } catch (IOException e) {
            x.awaitSuccess(); // mbstream that stopped reading has said why
            throw e;
        }
        x.awaitSuccess();
    }

    /** {@code mariadb-backup --prepare}: applies the redo log copied with the files, so the folder is a consistent data directory. */
    public static void prepare(Path tool, Path dir) throws IOException {
        ToolProcess p = ToolProcess.start("mariadb-backup --prepare", List.of(tool.toString(), "--prepare", "--target-dir=" + dir), Map.of());
        p.stdout().transferTo(OutputStream.nullOutputStream());
        p.awaitSuccess();
    }
}
