package dev.bunker.replication;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many objects (and bytes) per state, copies per store and state, and jobs per state the ledger holds, read from
 * {@code ledger_counts} (migration V10): triggers add delta rows in the transactions that change the ledger, so a read
 * costs a few rows at any ledger size, and {@link #fold} sums the deltas into one row per group from time to time.
 */
public final class LedgerCounts {
    /** A number of objects and their bytes (sizes not yet known count 0). */
    public record Amount(long count, long bytes) {
        public Amount plus(Amount other) {
            return new Amount(count + other.count, bytes + other.bytes);
        }
    }

    /**
     * One reading. Groups with nothing in them are absent. {@code copyBytes}: per store and state, the bytes of the
     * copies whose size was known when they were recorded (migration V18).
     */
    public record Counts(Map<String, Amount> objects, Map<String, Map<String, Long>> copies, Map<String, Map<String, Long>> copyBytes,
                         Map<String, Long> jobs) {
        /** Objects in every state. */
        public Amount allObjects() {
            return objects.values().stream().reduce(new Amount(0, 0), Amount::plus);
        }

        public Amount objectsIn(String state) {
            return objects.getOrDefault(state, new Amount(0, 0));
        }
    }

    static final String READ = "select what, store, state, sum(n), sum(bytes) from ledger_counts group by what, store, state";
    /** Concurrent folds are safe: a delta row deleted by one is skipped by the other (READ COMMITTED re-check). */
    static final String FOLD = """
            with gone as (delete from ledger_counts returning what, store, state, n, bytes)
            insert into ledger_counts (what, store, state, n, bytes)
            select what, store, state, sum(n), sum(bytes) from gone group by what, store, state
            having sum(n) <> 0 or sum(bytes) <> 0
            """;

    private LedgerCounts() {}

    public static Counts read(Connection c) throws SQLException {
        Map<String, Amount> objects = new TreeMap<>();
        Map<String, Map<String, Long>> copies = new TreeMap<>();
        Map<String, Map<String, Long>> copyBytes = new TreeMap<>();
        Map<String, Long> jobs = new TreeMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(READ)) {
            while (rs.next()) {
                long n = rs.getLong(4);
                if (n == 0 && rs.getLong(5) == 0) continue;
                String state = rs.getString(3);
                switch (rs.getString(1)) {
                    case "objects" -> objects.put(state, new Amount(n, rs.getLong(5)));
                    case "copies" -> {
                        copies.computeIfAbsent(rs.getString(2), k -> new TreeMap<>()).put(state, n);
                        copyBytes.computeIfAbsent(rs.getString(2), k -> new TreeMap<>()).put(state, rs.getLong(5));
                    }
                    case "jobs" -> jobs.put(state, n);
                    default -> { } // a kind a newer version counts
                }
            }
        }
        return new Counts(objects, copies, copyBytes, jobs);
    }

    /** Sums the delta rows into one row per group; returns how many groups are left. */
    public static int fold(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate(FOLD);
        }
    }
}
