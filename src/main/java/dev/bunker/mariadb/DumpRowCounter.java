package dev.bunker.mariadb;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a {@code mariadb-dump} as it streams past and counts each table's rows in it, so the manifest's row counts are
 * exactly the dump's snapshot (MariaDB cannot share a snapshot with another session, as PostgreSQL's exported snapshots
 * can), at no cost to the source. A table is every {@code CREATE TABLE `t`} at a line's start (views and sequences are
 * created otherwise); its rows are the value tuples of its {@code INSERT INTO `t` VALUES ...;} statements, found by
 * tracking parentheses outside quoted strings. Also picks up the binary log position the dump recorded in its header.
 */
public final class DumpRowCounter extends FilterInputStream {
    private static final byte[] INSERT = "INSERT INTO `".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern CREATE = Pattern.compile("^CREATE TABLE `((?:[^`]|``)+)` \\(");
    /** A dump of several databases ({@code --databases}) switches to each with a line of its own. */
    private static final Pattern USE = Pattern.compile("^USE `((?:[^`]|``)+)`;$");
    private static final Pattern CHANGE_MASTER = Pattern.compile("^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\\d+);");
    private static final Pattern GTID = Pattern.compile("^-- SET GLOBAL gtid_slave_pos='([^']*)';");
    private static final String COMPLETED = "-- Dump completed";
    private static final int HEAD_LIMIT = 4096;

    /**
     * HEAD: reading a line's start; NAME: an INSERT's table name; COLUMNS: what follows it up to the keyword VALUES (a column
     * list when mariadb-dump writes one, for tables with invisible columns); VALUES_KEYWORD: the blanks after it; VALUES: the
     * rows; SKIP_LINE: the rest of a line; DELIMITED: inside {@code DELIMITER ;;} ... {@code DELIMITER ;}, where routines,
     * triggers and events are written, whose bodies may hold anything (an INSERT, a CREATE TABLE, double-quoted strings).
     */
    private enum State { HEAD, NAME, COLUMNS, VALUES_KEYWORD, VALUES, SKIP_LINE, DELIMITED }

    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private final ByteArrayOutputStream name = new ByteArrayOutputStream();
    private State state = State.HEAD;
    private boolean nameTick; // a backtick seen inside a name: either its end or the first of a doubled one
    private String table;
    private String database; // "`db`." once a USE line was read (a dump of several databases), else ""
    private int depth;
    private boolean inString;
    private boolean escaped;
    private String binlogFile;
    private long binlogPos = -1;
    private String gtid;
    private boolean completed;
    private boolean inTick; // inside a backquoted name in COLUMNS
    private final StringBuilder keyword = new StringBuilder(); // the last letters outside names in COLUMNS
    private boolean longLine; // DELIMITED: the current line is longer than HEAD_LIMIT, so not DELIMITER ;

    public DumpRowCounter(InputStream in) {
        super(in);
        database = "";
    }

    /**
     * `table` (quoted as the dump quotes it; `db`.`table` in a dump of several databases) to its rows in the dump, in the
     * dump's order; complete once the stream ended.
     */
    public Map<String, Long> rowCounts() {
        return counts;
    }

    /** Whether the dump ended with its "-- Dump completed" line (a dump cut short has none, whatever its exit code). */
    public boolean completed() {
        return completed;
    }

    /** Null when the dump recorded no position (the server's binary log is off). */
    public BinlogPosition binlogPosition() {
        return binlogFile == null && gtid == null ? null : new BinlogPosition(binlogFile, binlogPos, gtid);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1]; // through read(byte[]): one state machine for both
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        int i = off;
        int end = off + Math.max(n, 0);
        while (i < end) {
            if (state == State.VALUES) i = values(buf, i, end);
            else if (state == State.SKIP_LINE) i = skipLine(buf, i, end);
            else if (state == State.VALUES_KEYWORD) i = valuesStart(buf[i], i);
            else accept(buf[i++]);
        }
        return n;
    }

    /**
     * The rows of an INSERT's VALUES: almost every byte of a dump passes here, so it runs on locals over the whole buffer
     * (the per-byte path costs a second per 400 MB on the backup's critical path). Returns where it stopped.
     */
    private int values(byte[] buf, int i, int end) {
        boolean inStr = inString;
        boolean esc = escaped;
        int d = depth;
        long rows = 0;
        for (; i < end; i++) {
            byte b = buf[i];
            if (inStr) {
                if (esc) esc = false;
                else if (b == '\\') esc = true;
                else if (b == '\'') inStr = false;
            } else if (b == '\'') {
                inStr = true;
            } else if (b == '(') {
                if (d++ == 0) rows++;
            } else if (b == ')') {
                d--;
            } else if (b == ';' && d == 0) {
                state = State.SKIP_LINE; // the statement's end; the rest of its line is the newline
                i++;
                break;
            }
        }
        inString = inStr;
        escaped = esc;
        depth = d;
        if (rows > 0) counts.merge(table, rows, Long::sum);
        return i;
    }

    /** After VALUES: blanks are passed over; the first other byte (the first row's parenthesis) is left for {@link #values}. */
    private int valuesStart(byte b, int i) {
        if (b == ' ' || b == '\n') return i + 1;
        state = State.VALUES;
        depth = 0;
        inString = false;
        escaped = false;
        return i;
    }

    private int skipLine(byte[] buf, int i, int end) {
        while (i < end && buf[i] != '\n') i++;
        if (i < end) {
            state = State.HEAD;
            i++;
        }
        return i;
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("a counted dump is read, not skipped");
    }

    private void accept(byte b) {
        switch (state) {
            case HEAD -> {
                if (b == '\n') {
                    endOfHeadLine();
                } else if (head.size() >= HEAD_LIMIT) {
                    state = State.SKIP_LINE;
                    head.reset();
                } else {
                    head.write(b);
                    if (head.size() == INSERT.length && java.util.Arrays.equals(head.toByteArray(), INSERT)) {
                        state = State.NAME;
                        name.reset();
                        nameTick = false;
                        head.reset();
                    }
                }
            }
            case NAME -> {
                if (nameTick) {
                    nameTick = false;
                    if (b == '`') {
                        name.write('`');
                        name.write('`');
                        return;
                    }
                    table = database + "`" + name.toString(StandardCharsets.UTF_8) + "`";
                    counts.putIfAbsent(table, 0L);
                    state = State.COLUMNS; // this byte is the space after the name
                    inTick = false;
                    keyword.setLength(0);
                } else if (b == '`') {
                    nameTick = true;
                } else {
                    name.write(b);
                }
            }
            case COLUMNS -> {
                if (b == '`') {
                    inTick = !inTick; // a doubled backtick inside a name toggles twice
                } else if (!inTick) {
                    keyword.append((char) b);
                    if (keyword.length() > 6) keyword.deleteCharAt(0);
                    if (keyword.toString().equals("VALUES")) state = State.VALUES_KEYWORD;
                }
            }
            case VALUES_KEYWORD, VALUES -> throw new IllegalStateException("read(byte[]) reads the rows"); // never reached
            case SKIP_LINE -> {
                if (b == '\n') state = State.HEAD;
            }
            case DELIMITED -> {
                if (b == '\n') {
                    if (!longLine && head.toString(StandardCharsets.UTF_8).equals("DELIMITER ;")) state = State.HEAD;
                    head.reset();
                    longLine = false;
                } else if (head.size() >= HEAD_LIMIT) {
                    longLine = true;
                } else {
                    head.write(b);
                }
            }
        }
    }

    private void endOfHeadLine() {
        String line = head.toString(StandardCharsets.UTF_8);
        head.reset();
        if (line.startsWith(COMPLETED)) completed = true;
        if (line.equals("DELIMITER ;;")) {
            state = State.DELIMITED;
            return;
        }
        Matcher m = CREATE.matcher(line);
        if (m.find()) {
            counts.putIfAbsent(database + "`" + m.group(1) + "`", 0L);
            return;
        }
        m = USE.matcher(line);
        if (m.find()) {
            database = "`" + m.group(1) + "`.";
            return;
        }
        m = CHANGE_MASTER.matcher(line);
        if (m.find()) {
            binlogFile = m.group(1);
            binlogPos = Long.parseLong(m.group(2));
            return;
        }
        m = GTID.matcher(line);
        if (m.find()) gtid = m.group(1);
    }
}
