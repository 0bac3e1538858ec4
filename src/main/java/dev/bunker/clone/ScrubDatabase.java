package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import dev.bunker.clone.ScrubPlan.Planned;
import dev.bunker.clone.ScrubRule.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Rewrites the planned columns of a freshly restored database (data loaded, no index or constraint built yet, no one else
 * connected), proves on a sample that no original value is left in them, and records what it did in
 * {@code bunker_scrub.columns}. The key, the fake pools and the digests of the originals live in session temp tables only.
 */
public final class ScrubDatabase {
    /** The clone's record of its scrub: {@code bunker_scrub.columns}. */
    static final String SCHEMA = "bunker_scrub";
    /** Rows checked per column; a table with fewer is checked whole. */
    static final int SAMPLE_ROWS = 10_000;

    /** What happened to one column: {@code verified} says how it was checked (or why it was not). */
    public record ColumnResult(ColumnName column, String rule, ColumnName propagatedFrom, long rowsChanged, long rowsSampled,
                               long survivors, String verified) {}

    private final ScrubPlan plan;
    private final byte[] key;

    public ScrubDatabase(ScrubPlan plan, byte[] key) {
        this.plan = plan;
        this.key = key;
    }

    /**
     * Scrubs and verifies the plan's tables on {@code c} (one session: its temp tables hold the key, the pools and the
     * digests); the caller {@link #record}s the results and refuses survivors with {@link #requireNoSurvivors}.
     */
    public List<ColumnResult> run(Connection c, Consumer<String> progress) throws SQLException {
        List<Planned> all = plan.columns();
        Map<TableName, List<Planned>> byTable = plan.byTable();
        try (Statement s = c.createStatement()) {
            s.execute("SET temp_buffers = '1GB'"); // before the first temp table: the digests stay in memory (taken as they grow)
            s.execute("SET work_mem = '64MB'");
            s.execute("SET synchronous_commit = off"); // a crash drops the private database anyway
            s.execute("CREATE TEMP TABLE bunker_key (ipad bytea NOT NULL, opad bytea NOT NULL)");
            s.execute("CREATE TEMP TABLE bunker_pool (kind text NOT NULL, i int NOT NULL, v text)");
            s.execute("CREATE TEMP TABLE bunker_originals (k int NOT NULL, h bytea NOT NULL)");
            s.execute("CREATE TEMP TABLE bunker_sample (k int NOT NULL, h bytea, v text)");
        }
        byte[][] pads = ScrubSql.pads(key);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + ScrubSql.KEY + " VALUES (?, ?)")) {
            p.setBytes(1, pads[0]);
            p.setBytes(2, pads[1]);
            p.executeUpdate();
        }
        progress.accept("remembering the digests of the original values of " + all.size() + " column(s)");
        Map<ColumnName, Long> changed = new HashMap<>();
        Map<TableName, Long> rows = new HashMap<>();
        try (Statement s = c.createStatement()) {
            for (Map.Entry<TableName, List<Planned>> e : byTable.entrySet()) {
                long t0 = System.nanoTime();
                try (ResultSet rs = s.executeQuery(ScrubSql.counts(e.getKey(), e.getValue()))) {
                    rs.next();
                    rows.put(e.getKey(), rs.getLong(1));
                    for (int i = 0; i < e.getValue().size(); i++) changed.put(e.getValue().get(i).column().name(), rs.getLong(i + 2));
                }
                List<Planned> checked = e.getValue().stream().filter(p -> p.rule().kind().comparedWithOriginals()).toList();
                if (!checked.isEmpty()) s.executeUpdate(ScrubSql.originals(e.getKey(), checked, ids(all, checked)));
                progress.accept(String.format("  %s: counted and digests kept in %.1f s", e.getKey(), (System.nanoTime() - t0) / 1e9));
            }
        }
        long tp = System.nanoTime();
        Map<Kind, Integer> poolSizes = loadPools(c, all);
        if (!poolSizes.isEmpty()) progress.accept(String.format("  fake pools loaded in %.1f s", (System.nanoTime() - tp) / 1e9));
        for (Map.Entry<TableName, List<Planned>> e : byTable.entrySet()) {
            long t0 = System.nanoTime();
            ScrubSql.Statement update = ScrubSql.update(e.getKey(), e.getValue(), poolSizes);
            try (PreparedStatement p = c.prepareStatement(update.sql())) {
                for (int i = 0; i < update.params().size(); i++) p.setObject(i + 1, update.params().get(i), Types.OTHER); // typed as the column
                p.executeUpdate();
            }
            progress.accept(String.format("  %s: %d rows, %d column(s) scrubbed in %.1f s", e.getKey(), rows.get(e.getKey()), e.getValue().size(),
                    (System.nanoTime() - t0) / 1e9));
        }
        progress.accept("verifying a sample of every scrubbed column");
        return verify(c, all, byTable, rows, changed);
    }

    /** Refuses results where a sampled value is an original (the caller drops the database). */
    public static void requireNoSurvivors(List<ColumnResult> results) throws CloneException {
        List<String> failed = new ArrayList<>();
        for (ColumnResult r : results) if (r.survivors() > 0) failed.add(r.column() + " (" + r.survivors() + " of " + r.rowsSampled() + " sampled)");
        if (!failed.isEmpty()) {
            throw new CloneException("the verification found original values left after the scrub in " + String.join(", ", failed)
                    + "; the clone was dropped", false);
        }
    }

    private static List<Integer> ids(List<Planned> all, List<Planned> some) {
        List<Integer> out = new ArrayList<>();
        for (Planned p : some) out.add(all.indexOf(p));
        return out;
    }

    /**
     * Loads the pools the plan needs, without any value that is among the originals of a column with that rule (so a fake
     * can never be mistaken for, or be, a real value), numbered from 0, plus the row at -1 every NULL joins.
     */
    private Map<Kind, Integer> loadPools(Connection c, List<Planned> all) throws SQLException {
        Map<Kind, Integer> sizes = new EnumMap<>(Kind.class);
        for (Planned p : all) {
            Kind kind = p.rule().kind();
            if (sizes.containsKey(kind) || !kind.pooled()) continue;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) if (all.get(i).rule().kind() == kind) ids.add(i);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + ScrubSql.POOL + " (kind, i, v) VALUES (?, ?, ?)")) {
                List<String> values = FakePool.of(kind);
                for (int i = -1; i < values.size(); i++) {
                    ins.setString(1, kind.word());
                    ins.setInt(2, i);
                    ins.setString(3, i < 0 ? null : values.get(i));
                    ins.addBatch();
                }
                ins.executeBatch();
            }
            try (PreparedStatement del = c.prepareStatement("DELETE FROM " + ScrubSql.POOL + " p WHERE p.kind = ? AND EXISTS (SELECT 1 FROM "
                    + ScrubSql.ORIGINALS + " o WHERE o.k = ANY (?) AND o.h = " + ScrubSql.digest("p.v") + ")")) {
                del.setString(1, kind.word());
                del.setArray(2, c.createArrayOf("int4", ids.toArray()));
                del.executeUpdate();
            }
            try (PreparedStatement renumber = c.prepareStatement("UPDATE " + ScrubSql.POOL + " p SET i = n.i FROM (SELECT ctid AS row_id, "
                    + "(row_number() OVER (ORDER BY i) - 1)::int AS i FROM " + ScrubSql.POOL + " WHERE kind = ? AND i >= 0) n WHERE p.ctid = n.row_id")) {
                renumber.setString(1, kind.word());
                sizes.put(kind, renumber.executeUpdate());
            }
        }
        if (!sizes.isEmpty()) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE INDEX ON " + ScrubSql.POOL + " (kind, i)");
                s.execute("ANALYZE " + ScrubSql.POOL);
            }
        }
        return sizes;
    }

    private List<ColumnResult> verify(Connection c, List<Planned> all, Map<TableName, List<Planned>> byTable, Map<TableName, Long> rows,
                                      Map<ColumnName, Long> changed) throws SQLException {
        Map<Integer, long[]> stats = new HashMap<>(); // k -> sampled, non-NULL texts, distinct texts, survivors
        try (Statement s = c.createStatement()) {
            for (Map.Entry<TableName, List<Planned>> e : byTable.entrySet()) {
                List<Planned> checked = e.getValue().stream().filter(p -> p.rule().replaces()).toList();
                if (!checked.isEmpty()) s.executeUpdate(ScrubSql.sample(e.getKey(), checked, ids(all, checked), rows.get(e.getKey()), SAMPLE_ROWS));
            }
            try (ResultSet rs = s.executeQuery("SELECT k, count(*), count(v), count(DISTINCT v) FROM " + ScrubSql.SAMPLE + " GROUP BY k")) {
                while (rs.next()) stats.put(rs.getInt(1), new long[] {rs.getLong(2), rs.getLong(3), rs.getLong(4), 0});
            }
            try (ResultSet rs = s.executeQuery("SELECT s.k, count(*) FROM " + ScrubSql.SAMPLE + " s WHERE s.h IS NOT NULL AND EXISTS (SELECT 1 FROM "
                    + ScrubSql.ORIGINALS + " o WHERE o.k = s.k AND o.h = s.h) GROUP BY s.k")) {
                while (rs.next()) stats.get(rs.getInt(1))[3] = rs.getLong(2);
            }
        }
        List<ColumnResult> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Planned p = all.get(i);
            long[] st = stats.getOrDefault(i, new long[4]);
            long survivors = switch (p.rule().kind()) {
                case NULL -> st[1];
                case CONSTANT -> Math.max(0, st[2] - 1);
                default -> st[3];
            };
            out.add(result(p, changed.get(p.column().name()), st[0], survivors, ""));
        }
        return out;
    }

    /** What was done to {@code p}'s column, as both ways of scrubbing report it; {@code how}: said after a comparison's verdict. */
    static ColumnResult result(Planned p, long changed, long sampled, long survivors, String how) {
        ColumnName name = p.column().name();
        return switch (p.rule().kind()) {
            case SHUFFLE -> new ColumnResult(name, "shuffle", null, changed, 0, 0, "exempt: a shuffle keeps the column's values, in other rows");
            case NULL -> new ColumnResult(name, "null", p.propagatedFrom(), changed, sampled, survivors, "no value left in the sample");
            case CONSTANT -> new ColumnResult(name, "constant", p.propagatedFrom(), changed, sampled, survivors, "one value in the sample");
            default -> new ColumnResult(name, p.rule().toString(), p.propagatedFrom(), changed, sampled, survivors,
                    "no sampled value's digest is among the originals'" + how);
        };
    }

    /** Records what was done in {@code bunker_scrub.columns} of the clone: no original value, no key. */
    public static void record(Connection c, List<ColumnResult> results, String backupId, Instant now) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS bunker_scrub");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS bunker_scrub.columns (
                        schema_name text NOT NULL, table_name text NOT NULL, column_name text NOT NULL, rule text NOT NULL,
                        propagated_from text, rows_changed bigint NOT NULL, rows_sampled bigint NOT NULL, survivors bigint NOT NULL,
                        verified text NOT NULL, backup_id text NOT NULL, scrubbed_at timestamptz NOT NULL,
                        PRIMARY KEY (schema_name, table_name, column_name))""");
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO bunker_scrub.columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (ColumnResult r : results) {
                p.setString(1, r.column().schema());
                p.setString(2, r.column().table());
                p.setString(3, r.column().column());
                p.setString(4, r.rule());
                p.setString(5, r.propagatedFrom() == null ? null : r.propagatedFrom().toString());
                p.setLong(6, r.rowsChanged());
                p.setLong(7, r.rowsSampled());
                p.setLong(8, r.survivors());
                p.setString(9, r.verified());
                p.setString(10, backupId);
                p.setTimestamp(11, Timestamp.from(now));
                p.addBatch();
            }
            p.executeBatch();
        }
    }
}
