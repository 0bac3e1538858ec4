package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tables, columns and foreign keys of a dump, read from the SQL {@code pg_restore -f -} prints for its pre-data and
 * post-data sections: known before anything is restored, so a scrub file is checked before a database is created.
 */
public record DumpSchema(Map<TableName, List<Column>> tables, List<ForeignKey> foreignKeys) {
    /** A column as pg_dump declares it: its type as {@code format_type} prints it, and whether it is NOT NULL or generated. */
    public record Column(ColumnName name, String type, boolean notNull, boolean generated) {
        /** n of {@code character varying(n)} or {@code character(n)}; 0 when the type has no length limit. */
        public int maxLength() {
            Matcher m = Pattern.compile("^(?:character varying|character)\\((\\d+)\\)$").matcher(type);
            return m.matches() ? Integer.parseInt(m.group(1)) : 0;
        }

        /** A type whose values are strings: text, varchar, char (and arrays or other types are not). */
        public boolean textual() {
            return type.equals("text") || type.matches("^(character varying|character)(\\(\\d+\\))?$");
        }
    }

    /** {@code columns} of a table reference {@code referenced} (pairwise, in order). */
    public record ForeignKey(String name, List<ColumnName> columns, List<ColumnName> referenced) {}

    private static final String IDENT = "(?:\"(?:[^\"]|\"\")*\"|[^\\s.(),\"]+)";
    private static final Pattern CREATE = Pattern.compile("^CREATE (?:UNLOGGED )?TABLE (" + IDENT + ")\\.(" + IDENT + ") \\($");
    private static final Pattern COLUMN = Pattern.compile("^    (" + IDENT + ") (.+?),?$");
    private static final Pattern FK = Pattern.compile("ALTER TABLE (?:ONLY )?(" + IDENT + ")\\.(" + IDENT + ")\\s+ADD CONSTRAINT (" + IDENT
            + ") FOREIGN KEY \\(([^)]*)\\) REFERENCES (" + IDENT + ")\\.(" + IDENT + ")\\(([^)]*)\\)");

    public static DumpSchema parse(String preData, String postData) {
        Map<TableName, List<Column>> tables = new LinkedHashMap<>();
        List<Column> current = null;
        TableName table = null;
        for (String line : preData.split("\n")) {
            if (current == null) {
                Matcher m = CREATE.matcher(line);
                if (m.matches()) {
                    table = new TableName(unquote(m.group(1)), unquote(m.group(2)));
                    current = new ArrayList<>();
                }
                continue;
            }
            if (line.startsWith(")")) { // the end of the column list (and of PARTITION BY, INHERITS... after it)
                tables.put(table, List.copyOf(current));
                current = null;
                continue;
            }
            Matcher m = COLUMN.matcher(line);
            if (!m.matches() || m.group(1).equals("CONSTRAINT")) continue;
            String rest = m.group(2);
            String type = rest.split(" (?=COLLATE |DEFAULT |NOT NULL|GENERATED )", 2)[0];
            current.add(new Column(new ColumnName(table.schema(), table.table(), unquote(m.group(1))), type,
                    rest.contains(" NOT NULL") || rest.endsWith("NOT NULL"), rest.contains("GENERATED ALWAYS AS (")));
        }
        List<ForeignKey> fks = new ArrayList<>();
        Matcher m = FK.matcher(postData.replaceAll("\n\\s+", " "));
        while (m.find()) {
            String schema = unquote(m.group(1));
            String t = unquote(m.group(2));
            String refSchema = unquote(m.group(5));
            String refTable = unquote(m.group(6));
            List<ColumnName> cols = new ArrayList<>();
            for (String c : identifiers(m.group(4))) cols.add(new ColumnName(schema, t, c));
            List<ColumnName> refs = new ArrayList<>();
            for (String c : identifiers(m.group(7))) refs.add(new ColumnName(refSchema, refTable, c));
            fks.add(new ForeignKey(unquote(m.group(3)), cols, refs));
        }
        return new DumpSchema(tables, fks);
    }

    public Column column(ColumnName name) {
        for (Column c : tables.getOrDefault(name.tableName(), List.of())) if (c.name().equals(name)) return c;
        return null;
    }

    private static List<String> identifiers(String list) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(IDENT).matcher(list);
        while (m.find()) out.add(unquote(m.group()));
        return out;
    }

    static String unquote(String ident) {
        return ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }
}
