package dev.bunker.scrub;

import dev.bunker.scrub.ScrubRules.Column;
import dev.bunker.scrub.ScrubRules.Kind;
import dev.bunker.scrub.ScrubRules.Rule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules a clone applies, checked against the restored schema: every named column exists and can take its rule,
 * a rule on a column other tables reference is applied to the referencing columns too (so joins still match), and
 * every column that looks personal is either scrubbed or marked keep.
 */
public record ScrubPlan(Map<Column, Rule> rules, Map<Column, ColumnType> types, List<String> notes, List<Column> kept, List<Column> uncovered) {
    /** A column's type as the catalog gives it; {@code maxLength} for varchar(n)/char(n), else null; {@code sqlType} as SQL spells it. */
    public record ColumnType(String dataType, Integer maxLength, boolean nullable, String sqlType) {}

    /** A foreign key, column by column. */
    public record ForeignKey(List<Column> from, List<Column> to) {}

    /** Word parts of column names that hold personal data often enough to refuse them unscrubbed by default. */
    static final Set<String> PERSONAL = Set.of("email", "mail", "phone", "mobile", "tel", "telephone", "name", "firstname", "lastname", "surname",
            "fullname", "username", "address", "street", "city", "zip", "zipcode", "postcode", "ip", "ipaddr", "token", "secret", "password",
            "passwd", "pwd", "iban", "ssn", "birth", "birthday", "dob", "card", "passport", "salt", "otp");

    static final Pattern FOREIGN_KEY = Pattern.compile(
            "ALTER TABLE (?:ONLY )?(\\S+)\\s+ADD CONSTRAINT \\S+ FOREIGN KEY \\(([^)]*)\\) REFERENCES (\\S+?)\\(([^)]*)\\)", Pattern.DOTALL);

    public static ScrubPlan of(ScrubRules given, Map<Column, ColumnType> catalog, List<ForeignKey> fks) {
        List<String> problems = new ArrayList<>();
        for (Column c : given.columns().keySet()) {
            if (!catalog.containsKey(c)) problems.add(c + " does not exist in the backup" + closest(c, catalog));
        }
        if (!problems.isEmpty()) throw new ScrubException("the scrub file names columns the backup does not have: " + String.join("; ", problems));
        Map<Column, Rule> rules = new LinkedHashMap<>(given.columns());
        List<String> notes = new ArrayList<>();
        boolean changed = true;
        while (changed) { // until every chain of references agrees (a -> b -> c)
            changed = false;
            for (ForeignKey fk : fks) {
                for (int i = 0; i < fk.from().size() && i < fk.to().size(); i++) {
                    Column from = fk.from().get(i);
                    Column to = fk.to().get(i);
                    Rule target = rules.get(to);
                    Rule source = rules.get(from);
                    if (target == null || target.kind() == Kind.KEEP) {
                        if (source != null && source.kind() != Kind.KEEP) {
                            problems.add(from + " references " + to + ": scrubbing only " + from + " would break the reference; give " + to + " the same rule");
                        }
                        continue;
                    }
                    if (target.kind() == Kind.SHUFFLE) {
                        problems.add(to + " is referenced by " + from + ": shuffle would break the reference; use hash or a fake- rule");
                        continue;
                    }
                    if (source == null) {
                        rules.put(from, target);
                        notes.add(from + " references " + to + ": scrubbed with the same rule (" + target + ") so joins still match");
                        changed = true;
                    } else if (!source.equals(target)) {
                        problems.add(from + " references " + to + " but has rule " + source + " where " + to + " has " + target + "; give both the same rule");
                    }
                }
            }
            if (!problems.isEmpty()) break;
        }
        for (Map.Entry<Column, Rule> e : rules.entrySet()) {
            String p = cannotTake(e.getValue(), catalog.get(e.getKey()));
            if (p != null) problems.add(e.getKey() + " (" + catalog.get(e.getKey()).dataType() + "): " + p);
        }
        if (!problems.isEmpty()) throw new ScrubException(String.join("; ", problems));
        List<Column> kept = new ArrayList<>();
        List<Column> uncovered = new ArrayList<>();
        for (Column c : catalog.keySet()) {
            Rule r = rules.get(c);
            if (r != null && r.kind() == Kind.KEEP) kept.add(c);
            else if (r == null && looksPersonal(c.name())) uncovered.add(c);
        }
        return new ScrubPlan(rules, catalog, notes, kept, uncovered);
    }

    /** The columns the clone rewrites, per table, in catalog order. */
    public Map<String, Map<Column, Rule>> byTable() {
        Map<String, Map<Column, Rule>> out = new TreeMap<>();
        for (Column c : types.keySet()) {
            Rule r = rules.get(c);
            if (r == null || r.kind() == Kind.KEEP) continue;
            out.computeIfAbsent(c.schema() + "." + c.table(), k -> new LinkedHashMap<>()).put(c, r);
        }
        return out;
    }

    /** Null if the column can take the rule, else why not. */
    static String cannotTake(Rule r, ColumnType t) {
        boolean text = t.dataType().equals("text") || t.dataType().equals("character varying") || t.dataType().equals("character");
        return switch (r.kind()) {
            case NULL -> t.nullable() ? null : "the column is NOT NULL; use constant or a fake- rule";
            case FAKE_EMAIL, FAKE_NAME, FAKE_PHONE -> !text ? r + " needs a text column" : t.maxLength() != null && t.maxLength() < 24
                    ? r + " needs room for at least 24 characters, the column holds " + t.maxLength() : null;
            case HASH -> switch (t.dataType()) {
                case "text", "character varying", "character" -> t.maxLength() != null && t.maxLength() < 16
                        ? "hash needs room for at least 16 characters, the column holds " + t.maxLength() : null;
                case "uuid", "bigint" -> null;
                case "integer", "smallint" -> "hash of a " + t.dataType() + " column would collide often enough to break its unique keys; keep it or widen it to bigint";
                default -> "hash works on text, varchar, char, uuid and bigint columns";
            };
            default -> null;
        };
    }

    static boolean looksPersonal(String column) {
        String spaced = column.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        if (PERSONAL.contains(spaced.replaceAll("[^a-z0-9]", ""))) return true;
        for (String word : spaced.split("[^a-z0-9]+")) if (PERSONAL.contains(word)) return true;
        return false;
    }

    /** The foreign keys in {@code pg_restore --section=post-data -f -} output. */
    public static List<ForeignKey> foreignKeys(String postData) {
        List<ForeignKey> out = new ArrayList<>();
        Matcher m = FOREIGN_KEY.matcher(postData);
        while (m.find()) {
            String[] from = qualified(m.group(1));
            String[] to = qualified(m.group(3));
            List<Column> fc = new ArrayList<>();
            List<Column> tc = new ArrayList<>();
            for (String c : m.group(2).split(",")) fc.add(new Column(from[0], from[1], unquote(c.trim())));
            for (String c : m.group(4).split(",")) tc.add(new Column(to[0], to[1], unquote(c.trim())));
            out.add(new ForeignKey(fc, tc));
        }
        return out;
    }

    private static String[] qualified(String name) {
        int dot = name.startsWith("\"") ? name.indexOf("\".") + 1 : name.indexOf('.');
        return new String[] {unquote(name.substring(0, dot)), unquote(name.substring(dot + 1))};
    }

    private static String unquote(String id) {
        return id.startsWith("\"") && id.endsWith("\"") ? id.substring(1, id.length() - 1).replace("\"\"", "\"") : id;
    }

    private static String closest(Column c, Map<Column, ColumnType> catalog) {
        List<String> same = new ArrayList<>();
        for (Column k : catalog.keySet()) if (k.schema().equals(c.schema()) && k.table().equals(c.table())) same.add(k.name());
        if (!same.isEmpty()) return " (" + c.schema() + "." + c.table() + " has " + same + ")";
        return catalog.keySet().stream().anyMatch(k -> k.table().equalsIgnoreCase(c.table())) ? " (the table is in another schema, or spelled with other case)" : "";
    }
}
