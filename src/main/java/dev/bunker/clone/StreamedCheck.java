package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import dev.bunker.clone.ScrubPlan.Planned;
import dev.bunker.clone.ScrubRule.Kind;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;

/**
 * The verification of one streamed column: the digests of its original values, kept as they stream past, then a sample
 * read back from the private database once loaded, each value compared with them. What is read back is what the clone
 * holds, whatever the code that wrote it did. Above {@link #ORIGINALS} distinct values a column keeps the digests of one
 * share of the digest space only (1 in {@code mask + 1} of them) and reads back that many more rows, so as many sampled
 * values fall in the share: a value equal to an original has the same digest, so both are in it or neither is.
 */
final class StreamedCheck {
    /** Distinct digests of originals kept per column (8 bytes each; up to twice as many before they are deduplicated). */
    static final int ORIGINALS = 2_000_000;

    private final Planned planned;
    private final boolean padded; // character(n): compared without the padding, as the in-database scrub compares ::text
    private long changed;
    private long mask;
    private long[] originals = new long[1024];
    private int kept;
    private boolean sorted;
    private long sampled;
    private long survivors;
    private final java.util.Set<String> constants = new java.util.HashSet<>(); // a constant rule's distinct values read back (at most 2 kept)

    StreamedCheck(ScrubValues.Column column) {
        this.planned = column.planned();
        this.padded = column.padded();
    }

    Planned planned() { return planned; }

    /** How many rows to read back for {@code SAMPLE} values of this column in its range. */
    long readBack(int sample) { return sample * (mask + 1); }

    /** One original value (null: a NULL) as it streams past. */
    void original(ScrubValues values, String value) {
        if (value == null) return;
        changed++;
        if (!planned.rule().kind().comparedWithOriginals()) return;
        long d = values.digest(padded ? ScrubValues.unpadded(value) : value);
        if ((d & mask) != 0) return;
        if (kept == originals.length && kept < 2 * ORIGINALS) {
            originals = Arrays.copyOf(originals, Math.min(2 * ORIGINALS, originals.length * 2));
        } else if (kept == originals.length) { // full: duplicates out, then a narrower range while still too many
            Arrays.sort(originals, 0, kept);
            int n = 0;
            for (int i = 0; i < kept; i++) if (n == 0 || originals[i] != originals[n - 1]) originals[n++] = originals[i];
            kept = n;
            while (kept > ORIGINALS) {
                mask = (mask << 1) | 1;
                n = 0;
                for (int i = 0; i < kept; i++) if ((originals[i] & mask) == 0) originals[n++] = originals[i];
                kept = n;
            }
            if ((d & mask) != 0) return;
        }
        originals[kept++] = d;
        sorted = false;
    }

    /** One value read back from the clone. */
    private void readBack(ScrubValues values, String value) {
        Kind k = planned.rule().kind();
        if (k == Kind.SHUFFLE) return;
        if (k == Kind.NULL) {
            sampled++;
            if (value != null) survivors++;
            return;
        }
        if (k == Kind.CONSTANT) { // compared with each other, not with the constant's text: the column's type prints it its own way
            sampled++;
            if (value != null && constants.size() < 2) constants.add(value);
            survivors = Math.max(0, constants.size() - 1);
            return;
        }
        if (value == null) return;
        long d = values.digest(padded ? ScrubValues.unpadded(value) : value);
        if ((d & mask) != 0) return;
        if (!sorted) {
            Arrays.sort(originals, 0, kept);
            sorted = true;
        }
        sampled++;
        if (Arrays.binarySearch(originals, 0, kept, d) >= 0) survivors++;
    }

    /** Reads back a sample of {@code table} (all of it when small) and checks each of its streamed columns on it. */
    static void readBack(Connection c, TableName table, long rows, List<StreamedCheck> checks, ScrubValues values) throws SQLException {
        long limit = 0;
        StringBuilder cols = new StringBuilder();
        for (StreamedCheck check : checks) {
            limit = Math.max(limit, check.readBack(ScrubDatabase.SAMPLE_ROWS));
            cols.append(cols.isEmpty() ? "" : ", ").append(check.planned.column().name().sqlColumn());
        }
        String sampling = rows <= limit ? "" : " TABLESAMPLE SYSTEM (" + Math.min(100.0, 300.0 * limit / rows) + ")";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + cols + " FROM " + table.sql() + sampling + " LIMIT " + limit)) {
            while (rs.next()) {
                for (int i = 0; i < checks.size(); i++) checks.get(i).readBack(values, rs.getString(i + 1)); // the type's text, as COPY prints it
            }
        }
    }

    ScrubDatabase.ColumnResult result() {
        return ScrubDatabase.result(planned, changed, sampled, survivors, mask == 0 ? "" : " (compared in 1 of " + (mask + 1) + " ranges of digests)");
    }
}
