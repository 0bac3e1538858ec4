package dev.bunker.clone;

import java.util.ArrayList;
import java.util.List;

/** A column as {@code schema.table.column}; each part may be double-quoted ({@code public."odd.name".col}) as in SQL. */
public record ColumnName(String schema, String table, String column) implements Comparable<ColumnName> {
    /** Parses a scrub file key; throws {@link IllegalArgumentException} when it is not three parts. */
    public static ColumnName parse(String key) {
        List<String> parts = parts(key);
        if (parts.size() != 3) {
            throw new IllegalArgumentException("\"" + key + "\" is not schema.table.column (quote a part holding a dot: public.\"a.b\".c)");
        }
        return new ColumnName(parts.get(0), parts.get(1), parts.get(2));
    }

    static List<String> parts(String key) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < key.length() && key.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '.') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (quoted) throw new IllegalArgumentException("\"" + key + "\" has an unclosed double quote");
        out.add(cur.toString());
        return out;
    }

    public TableName tableName() { return new TableName(schema, table); }

    /** The column quoted for SQL (only its own name: it is used within its table's statement). */
    public String sqlColumn() { return quote(column); }

    /** Double-quotes an identifier, doubling any quote inside it: never concatenated unquoted into SQL. */
    public static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    @Override
    public int compareTo(ColumnName o) { return toString().compareTo(o.toString()); }

    @Override
    public String toString() { return schema + "." + table + "." + column; }

    /** A table as {@code schema.table}. */
    public record TableName(String schema, String table) implements Comparable<TableName> {
        public String sql() { return quote(schema) + "." + quote(table); }

        @Override
        public int compareTo(TableName o) { return toString().compareTo(o.toString()); }

        @Override
        public String toString() { return schema + "." + table; }
    }
}
