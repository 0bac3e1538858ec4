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
    /** A typed table: its columns are its composite type's, with options (NOT NULL...) in an optional list after it. */
    private static final Pattern CREATE_OF = Pattern.compile("^CREATE (?:UNLOGGED )?TABLE (" + IDENT + ")\\.(" + IDENT + ") OF (" + IDENT + ")\\.("
            + IDENT + ")(?:( \\()|;)$");
    private static final Pattern CREATE_TYPE = Pattern.compile("^CREATE TYPE (" + IDENT + ")\\.(" + IDENT + ") AS \\($");
    private static final Pattern ATTRIBUTE = Pattern.compile("^\t(" + IDENT + ") (.+?),?$");
    private static final Pattern OPTION = Pattern.compile("^    (" + IDENT + ") (?:WITH OPTIONS )?(.+?),?$");
    private static final Pattern COLUMN = Pattern.compile("^    (" + IDENT + ") (.+?),?$");
    private static final Pattern FK = Pattern.compile("ALTER TABLE (?:ONLY )?(" + IDENT + ")\\.(" + IDENT + ")\\s+ADD CONSTRAINT (" + IDENT
            + ") FOREIGN KEY \\(([^)]*)\\) REFERENCES (" + IDENT + ")\\.(" + IDENT + ")\\(([^)]*)\\)");

    public static DumpSchema parse(String preData, String postData) {
        Map<TableName, List<Column>> tables = new LinkedHashMap<>();
        Map<TableName, List<String[]>> types = new LinkedHashMap<>(); // composite types: attribute name and type
        List<Column> current = null;
        List<String[]> type = null;
        TableName table = null;
        boolean typed = false;
        String open = null; // a line inside a multi-line string or function body is never a column nor the end of one
        for (String line : preData.split("\n")) {
            boolean literalLine = open != null;
            open = openAtEnd(line, open);
            if (literalLine) continue;
            if (type != null) {
                Matcher a = ATTRIBUTE.matcher(line);
                if (line.startsWith(")")) type = null;
                else if (a.matches()) type.add(new String[] {unquote(a.group(1)), a.group(2).split(" (?=COLLATE )", 2)[0]});
                continue;
            }
            if (current == null) {
                Matcher m = CREATE.matcher(line);
                Matcher of = CREATE_OF.matcher(line);
                Matcher t = CREATE_TYPE.matcher(line);
                if (m.matches()) {
                    table = new TableName(unquote(m.group(1)), unquote(m.group(2)));
                    current = new ArrayList<>();
                    typed = false;
                } else if (of.matches()) {
                    table = new TableName(unquote(of.group(1)), unquote(of.group(2)));
                    current = new ArrayList<>();
                    for (String[] attr : types.getOrDefault(new TableName(unquote(of.group(3)), unquote(of.group(4))), List.of())) {
                        current.add(new Column(new ColumnName(table.schema(), table.table(), attr[0]), attr[1], false, false));
                    }
                    typed = true;
                    if (of.group(5) == null) { // no options list: the table is whole
                        tables.put(table, List.copyOf(current));
                        current = null;
                    }
                } else if (t.matches()) {
                    type = new ArrayList<>();
                    types.put(new TableName(unquote(t.group(1)), unquote(t.group(2))), type);
                }
                continue;
            }
            if (line.startsWith(")")) { // the end of the column list (and of PARTITION BY, INHERITS... after it)
                tables.put(table, List.copyOf(current));
                current = null;
                continue;
            }
            if (typed) { // "    col NOT NULL": an option of a column the type declares
                Matcher o = OPTION.matcher(line);
                if (!o.matches() || !o.group(2).contains("NOT NULL")) continue;
                for (int i = 0; i < current.size(); i++) {
                    Column c = current.get(i);
                    if (c.name().column().equals(unquote(o.group(1)))) current.set(i, new Column(c.name(), c.type(), true, c.generated()));
                }
                continue;
            }
            Matcher m = COLUMN.matcher(line);
            if (!m.matches() || m.group(1).equals("CONSTRAINT")) continue;
            String rest = m.group(2);
            String columnType = rest.split(" (?=COLLATE |DEFAULT |NOT NULL|GENERATED )", 2)[0];
            current.add(new Column(new ColumnName(table.schema(), table.table(), unquote(m.group(1))), columnType,
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

    /** Columns a table declares itself (inherited ones are its parent's), typed tables' included, as the catalog has them. */
    static final String CATALOG_COLUMNS = """
            select n.nspname, c.relname, a.attname
              from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and (a.attislocal or c.reloftype <> 0)
               and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
             order by 1, 2, a.attnum
            """;

    /**
     * The personal-looking columns of the database {@code c} (the dump's schema restored) that {@code parsed} does not
     * have: a form of CREATE TABLE the parser does not read would otherwise leave them out of the coverage check.
     */
    static List<ColumnName> unseenPersonal(java.sql.Connection c, DumpSchema parsed) throws java.sql.SQLException {
        List<ColumnName> out = new ArrayList<>();
        try (java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(CATALOG_COLUMNS)) {
            while (rs.next()) {
                ColumnName name = new ColumnName(rs.getString(1), rs.getString(2), rs.getString(3));
                if (PersonalColumns.looksPersonal(name.column()) && parsed.column(name) == null) out.add(name);
            }
        }
        return out;
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

    /**
     * What is still open at the end of {@code line}, given what was open at its start ({@code open}): null (nothing), "'"
     * (a string literal) or a dollar quote's tag ("$$", "$_$"). pg_dump writes standard strings (a quote inside one is
     * doubled) and function bodies in dollar quotes; outside both, quoted identifiers may hold quotes and a comment
     * (--) runs to the end of the line. A line that starts inside a literal is never read as a column.
     */
    static String openAtEnd(String line, String open) {
        int i = 0;
        while (i < line.length()) {
            if (open != null && open.equals("'")) {
                int q = line.indexOf('\'', i);
                if (q < 0) return open;
                open = null; // a doubled quote reopens at the next character
                i = q + 1;
                continue;
            }
            if (open != null) { // in a dollar quote: only its own tag ends it
                int end = line.indexOf(open, i);
                if (end < 0) return open;
                i = end + open.length();
                open = null;
                continue;
            }
            char ch = line.charAt(i);
            if (ch == '\'') {
                open = "'";
                i++;
            } else if (ch == '"') {
                int end = line.indexOf('"', i + 1);
                while (end >= 0 && end + 1 < line.length() && line.charAt(end + 1) == '"') end = line.indexOf('"', end + 2);
                if (end < 0) return null;
                i = end + 1;
            } else if (ch == '-' && line.startsWith("--", i)) {
                return null;
            } else if (ch == '$' && (i == 0 || !isIdentifierPart(line.charAt(i - 1)))) {
                Matcher tag = DOLLAR_TAG.matcher(line).region(i, line.length());
                if (tag.lookingAt()) {
                    open = tag.group();
                    i = tag.end();
                } else {
                    i++;
                }
            } else {
                i++;
            }
        }
        return open;
    }

    private static final Pattern DOLLAR_TAG = Pattern.compile("\\$(?:[A-Za-z_][A-Za-z0-9_]*)?\\$");

    /** A character that continues an unquoted identifier: a dollar there (cost$x$) starts no quote. */
    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    static String unquote(String ident) {
        return ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }
}
