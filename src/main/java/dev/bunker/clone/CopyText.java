package dev.bunker.clone;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL's COPY text format as {@code pg_restore -f -} prints a table's data: a {@code COPY schema.table (columns) FROM
 * stdin;} line, one line per row with tab-separated fields ({@code \N} for NULL, backslash escapes), and {@code \.} at the end.
 */
final class CopyText {
    static final String NULL = "\\N";
    static final String END = "\\.";
    private static final String IDENT = "(\"(?:[^\"]|\"\")*\"|[^\\s.(),\"]+)";
    private static final Pattern HEADER = Pattern.compile("^COPY " + IDENT + "\\." + IDENT + " \\((.*)\\) FROM stdin;$");

    /** A COPY line's table and its columns in the order of the row's fields. */
    record Header(ColumnName.TableName table, List<String> columns) {}

    /** A block's data lines, as printed; null at the end of the block (and from then on). */
    interface Rows {
        String next() throws IOException;
    }

    /** The rows of the block whose header {@code in} just gave, up to its {@code \.} line, which must come. */
    static Rows rows(java.io.BufferedReader in, ColumnName.TableName table) {
        return new Rows() {
            private boolean ended;

            @Override
            public String next() throws IOException {
                if (ended) return null;
                String line = in.readLine();
                if (line == null) throw new IOException("the dump's data of " + table + " ended before its last row");
                if (line.equals(END)) {
                    ended = true;
                    return null;
                }
                return line;
            }
        };
    }

    private CopyText() {}

    /** Parses a COPY line; null when {@code line} is not one. */
    static Header header(String line) {
        Matcher m = HEADER.matcher(line);
        if (!m.matches()) return null;
        List<String> columns = new ArrayList<>();
        String list = m.group(3);
        int i = 0;
        while (i < list.length()) {
            StringBuilder name = new StringBuilder();
            if (list.charAt(i) == '"') {
                i++;
                while (i < list.length()) {
                    char c = list.charAt(i++);
                    if (c == '"' && i < list.length() && list.charAt(i) == '"') {
                        name.append('"');
                        i++;
                    } else if (c == '"') {
                        break;
                    } else {
                        name.append(c);
                    }
                }
            } else {
                while (i < list.length() && list.charAt(i) != ',') name.append(list.charAt(i++));
            }
            columns.add(name.toString());
            if (i < list.length() && list.charAt(i) == ',') i++;
            if (i < list.length() && list.charAt(i) == ' ') i++;
        }
        return new Header(new ColumnName.TableName(unquote(m.group(1)), unquote(m.group(2))), columns);
    }

    private static String unquote(String ident) {
        return ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }

    /** A data line's fields as printed (still escaped); a tab inside a value is always escaped, so it splits on every tab. */
    static String[] fields(String line, int expected) throws IOException {
        int[] ends = new int[expected];
        ends(line, ends);
        String[] out = new String[expected];
        for (int i = 0; i < expected; i++) out[i] = line.substring(i == 0 ? 0 : ends[i - 1] + 1, ends[i]);
        return out;
    }

    /**
     * Where a data line's fields end: {@code ends[i]} is the index of the tab after field i (the line's length for the last);
     * field i starts after {@code ends[i - 1]}. Nothing is copied, for lines whose most fields pass through unchanged.
     */
    static void ends(String line, int[] ends) throws IOException {
        int n = 0;
        for (int i = 0; i <= line.length(); i++) {
            if (i == line.length() || line.charAt(i) == '\t') {
                if (n == ends.length) throw new IOException("a COPY row has more than the " + ends.length + " fields its header names");
                ends[n++] = i;
            }
        }
        if (n != ends.length) throw new IOException("a COPY row has " + n + " fields where its header names " + ends.length);
    }

    /** The value of a printed field; null for {@code \N}. */
    static String decode(String field) throws IOException {
        if (field.equals(NULL)) return null;
        if (field.indexOf('\\') < 0) return field;
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c != '\\' || i + 1 == field.length()) {
                out.append(c);
                continue;
            }
            char e = field.charAt(++i);
            switch (e) {
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x' -> {
                    int j = i + 1;
                    while (j < field.length() && j < i + 3 && Character.digit(field.charAt(j), 16) >= 0) j++;
                    if (j == i + 1) {
                        out.append('x');
                        continue;
                    }
                    out.append(ascii(Integer.parseInt(field.substring(i + 1, j), 16)));
                    i = j - 1;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int j = i;
                        while (j < field.length() && j < i + 3 && field.charAt(j) >= '0' && field.charAt(j) <= '7') j++;
                        out.append(ascii(Integer.parseInt(field.substring(i, j), 8)));
                        i = j - 1;
                    } else {
                        out.append(e); // any other escaped character stands for itself, as COPY FROM reads it
                    }
                }
            }
        }
        return out.toString();
    }

    /** A byte given by an escape: pg_dump writes only ASCII that way, so anything else would be a byte of a UTF-8 sequence. */
    private static char ascii(int b) throws IOException {
        if (b == 0 || b > 0x7f) throw new IOException("a COPY field escapes the byte " + b + " on its own; only UTF-8 text is streamed");
        return (char) b;
    }

    /** {@code value} as a field ({@code \N} for null), escaped so that COPY FROM reads back exactly it. */
    static String encode(String value) {
        if (value == null) return NULL;
        StringBuilder out = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            String esc = switch (c) {
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                case '\b' -> "\\b";
                case '\f' -> "\\f";
                case '\u000b' -> "\\v";
                default -> null;
            };
            if (esc != null && out == null) out = new StringBuilder(value.length() + 8).append(value, 0, i);
            if (out != null) {
                if (esc != null) out.append(esc);
                else out.append(c);
            }
        }
        return out == null ? value : out.toString();
    }
}
