package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import dev.bunker.clone.DumpSchema.Column;
import dev.bunker.clone.DumpSchema.ForeignKey;
import dev.bunker.clone.ScrubRule.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A scrub file checked against a dump's schema: every named column exists and its rule suits its type, foreign keys get
 * the rule of the column they reference (or the clone is refused when the two sides would no longer match), and every
 * personal-looking column is covered. Everything here is decided before a database is created.
 */
public record ScrubPlan(List<Planned> columns, Coverage coverage) {
    /** One column to rewrite; {@code propagatedFrom}: the referenced column whose rule it took through a foreign key, or null. */
    public record Planned(Column column, ScrubRule rule, ColumnName propagatedFrom) {}

    /** Every column of the dump by what the plan does with it; {@code uncovered}: personal-looking and neither scrubbed nor kept. */
    public record Coverage(List<ColumnName> scrubbed, List<ColumnName> kept, List<ColumnName> uncovered, int other) {
        public boolean complete() { return uncovered.isEmpty(); }
    }

    /** Checks {@code file} against {@code schema}; throws with every problem found (the caller's to fix) but coverage, see {@link #requireCovered}. */
    public static ScrubPlan of(DumpSchema schema, ScrubFile file) throws CloneException {
        List<String> problems = new ArrayList<>();
        Map<ColumnName, ScrubRule> rules = new TreeMap<>();
        for (Map.Entry<ColumnName, ScrubRule> e : file.rules().entrySet()) {
            if (schema.column(e.getKey()) == null) problems.add("no column " + e.getKey() + " in the backup" + closest(schema, e.getKey()));
            else rules.put(e.getKey(), e.getValue());
        }
        Map<ColumnName, ColumnName> propagated = new LinkedHashMap<>();
        for (boolean changed = true; changed; ) { // along chains of foreign keys, until nothing changes
            changed = false;
            for (ForeignKey fk : schema.foreignKeys()) {
                for (int i = 0; i < fk.columns().size() && i < fk.referenced().size(); i++) {
                    ScrubRule parent = rules.get(fk.referenced().get(i));
                    ColumnName child = fk.columns().get(i);
                    if (parent != null && parent.deterministic() && !rules.containsKey(child) && schema.column(child) != null) {
                        rules.put(child, parent);
                        propagated.put(child, fk.referenced().get(i));
                        changed = true;
                    }
                }
            }
        }
        for (ForeignKey fk : schema.foreignKeys()) {
            for (int i = 0; i < fk.columns().size() && i < fk.referenced().size(); i++) {
                ColumnName child = fk.columns().get(i);
                ColumnName parent = fk.referenced().get(i);
                ScrubRule pr = rules.getOrDefault(parent, ScrubRule.KEEP);
                ScrubRule cr = rules.getOrDefault(child, ScrubRule.KEEP);
                if (pr.kind() == Kind.SHUFFLE) {
                    problems.add(parent + " is shuffled but " + child + " references it (foreign key " + fk.name()
                            + "): the references would point at other rows' values; use hash instead");
                } else if (!pr.equals(cr)) {
                    problems.add(child + " (" + cr + ") references " + parent + " (" + pr + ") through foreign key " + fk.name()
                            + ": give both the same rule, or leave " + child + " out of the scrub file to take " + parent + "'s");
                } else if (pr.replaces() && schema.column(child) != null && schema.column(parent) != null
                        && schema.column(child).maxLength() != schema.column(parent).maxLength()) {
                    problems.add(child + " (" + schema.column(child).type() + ") and " + parent + " (" + schema.column(parent).type()
                            + ") have different lengths: their " + pr + " values would be cut differently and no longer match");
                }
            }
        }
        List<Planned> planned = new ArrayList<>();
        for (Map.Entry<ColumnName, ScrubRule> e : rules.entrySet()) {
            Column c = schema.column(e.getKey());
            String why = unsuitable(c, e.getValue());
            if (why != null) problems.add(c.name() + " (" + c.type() + "): " + why);
            else if (e.getValue().kind() != Kind.KEEP) planned.add(new Planned(c, e.getValue(), propagated.get(e.getKey())));
        }
        if (!problems.isEmpty()) {
            throw new CloneException("scrub file '" + file.path() + "' cannot be applied to this backup: " + String.join("; ", problems)
                    + "; nothing was created", true);
        }
        List<ColumnName> scrubbed = new ArrayList<>();
        List<ColumnName> kept = new ArrayList<>();
        List<ColumnName> uncovered = new ArrayList<>();
        int other = 0;
        for (List<Column> cols : schema.tables().values()) {
            for (Column c : cols) {
                ScrubRule r = rules.get(c.name());
                if (r != null && r.kind() != Kind.KEEP) scrubbed.add(c.name());
                else if (r != null) kept.add(c.name());
                else if (PersonalColumns.looksPersonal(c.name().column())) uncovered.add(c.name());
                else other++;
            }
        }
        return new ScrubPlan(planned, new Coverage(scrubbed, kept, uncovered, other));
    }

    /** Refuses a plan that leaves a personal-looking column as it is without saying so ({@code keep}). */
    public void requireCovered(ScrubFile file) throws CloneException {
        if (coverage.complete()) return;
        throw new CloneException(coverage.uncovered().size() + " column(s) look personal but the scrub file '" + file.path()
                + "' neither scrubs nor keeps them: " + coverage.uncovered() + "; give each a rule (hash, fake-name, null...) or "
                + "`keep` to copy it as it is; nothing was created", true);
    }

    /**
     * The plan split into groups of tables that can be scrubbed in separate sessions: tables whose columns pick from the same
     * fake pool stay together (a session filters its pool against its own originals, and the same input must give the
     * same fake in every table). {@code size} weighs a table; the groups are filled largest first into {@code n} bins.
     */
    public List<ScrubPlan> split(int n, java.util.function.ToLongFunction<TableName> size) {
        Map<TableName, List<Planned>> byTable = byTable();
        Map<Object, List<TableName>> groups = new LinkedHashMap<>();
        for (Map.Entry<TableName, List<Planned>> e : byTable.entrySet()) {
            Object kind = e.getValue().stream().map(p -> p.rule().kind()).filter(Kind::pooled)
                    .findFirst().orElse(null);
            groups.computeIfAbsent(kind == null ? e.getKey() : "pools", k -> new ArrayList<>()).add(e.getKey()); // all pooled tables together
        }
        List<List<TableName>> sorted = new ArrayList<>(groups.values());
        sorted.sort(Comparator.comparingLong((List<TableName> g) -> g.stream().mapToLong(size).sum()).reversed());
        List<List<Planned>> bins = new ArrayList<>();
        long[] weight = new long[n];
        for (int i = 0; i < n; i++) bins.add(new ArrayList<>());
        for (List<TableName> g : sorted) {
            int lightest = 0;
            for (int i = 1; i < n; i++) if (weight[i] < weight[lightest]) lightest = i;
            for (TableName t : g) {
                bins.get(lightest).addAll(byTable.get(t));
                weight[lightest] += size.applyAsLong(t);
            }
        }
        return bins.stream().filter(b -> !b.isEmpty()).map(b -> new ScrubPlan(b, coverage)).toList();
    }

    /** The planned columns by table, tables in name order. */
    public Map<TableName, List<Planned>> byTable() {
        Map<TableName, List<Planned>> out = new TreeMap<>();
        for (Planned p : columns) out.computeIfAbsent(p.column().name().tableName(), t -> new ArrayList<>()).add(p);
        return out;
    }

    /** Why {@code rule} cannot rewrite {@code c}, or null when it can. */
    static String unsuitable(Column c, ScrubRule rule) {
        if (rule.kind() == Kind.KEEP) return null;
        if (c.generated()) return "a generated column is computed from others; scrub those (or mark it keep)";
        int n = c.maxLength();
        return switch (rule.kind()) {
            case NULL -> c.notNull() ? "NOT NULL, so null cannot apply; use constant or hash" : null;
            case HASH -> {
                if (c.textual()) yield n == 0 || n >= 16 ? null : "too short for a hash (at least 16 characters keep it unique); use fake-* or constant";
                if (c.type().equals("uuid") || c.type().equals("bigint")) yield null;
                if (c.type().equals("integer") || c.type().equals("smallint")) {
                    yield "hash cannot fit " + c.type() + ": so few bits would make different values collide and break unique keys; "
                            + "use shuffle or constant, or keep";
                }
                yield "hash supports text, varchar, char, uuid and bigint, not " + c.type();
            }
            case SHUFFLE -> PersonalColumns.identifying(c.name().column())
                    ? "shuffle keeps every real value, only in another row, and this column's values identify people by themselves; use "
                      + "hash, fake-* or null (or keep, to copy it as it is knowingly)"
                    : null;
            case FAKE_EMAIL -> c.textual() && (n == 0 || n >= 40) ? null : "fake-email needs text or varchar of at least 40 characters";
            case FAKE_NAME, FAKE_PHONE -> c.textual() && (n == 0 || n >= 8) ? null : rule + " needs text or varchar of at least 8 characters";
            default -> null;
        };
    }

    private static String closest(DumpSchema schema, ColumnName wanted) {
        List<String> all = new ArrayList<>();
        for (List<Column> cols : schema.tables().values()) for (Column c : cols) all.add(c.name().toString());
        all.sort(Comparator.comparingInt((String s) -> distance(s, wanted.toString())).thenComparing(s -> s));
        return all.isEmpty() ? "" : " (closest: " + String.join(", ", all.subList(0, Math.min(3, all.size()))) + ")";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            int[] cur = new int[b.length() + 1];
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (Objects.equals(a.charAt(i - 1), b.charAt(j - 1)) ? 0 : 1));
            }
            prev = cur;
        }
        return prev[b.length()];
    }
}
