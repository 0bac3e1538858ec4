package dev.bunker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.db.Database;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle's queries on a ledger of 100,000 objects (97% live, 1% trashed, 2% deleted) read their partial indexes,
 * not the whole table: the purge-due and trash queries are what every purge run, trash listing and metrics reading
 * costs, and a sequential scan of a billion-row ledger would take minutes.
 */
@Timeout(120)
class LifecycleIndexesTest {
    @TempDir Path dir;

    static String plan(Connection c, String sql, Object... params) throws Exception {
        List<String> lines = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("explain " + sql)) {
            for (int i = 0; i < params.length; i++) p.setObject(i + 1, params[i]);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) lines.add(rs.getString(1));
            }
        }
        return String.join("\n", lines);
    }

    @Test
    void purgeDueTrashAndDeletedQueriesReadTheirPartialIndexes() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir); Connection c = db.connection(); Statement s = c.createStatement()) {
            s.execute("insert into objects (key, size, sha256) select 'k-' || lpad(g::text, 6, '0'), g, md5(g::text) || md5(g::text) "
                    + "from generate_series(1, 100000) g");
            s.execute("update objects set state = 'trashed', trashed_at = now() - interval '1 day', trashed_by = 't' where right(key, 2) = '07'");
            s.execute("update objects set state = 'deleted', deleted_at = now() - interval '1 day', deleted_by = 't', "
                    + "purge_after = now() + (substr(key, 3)::int % 40 - 20) * interval '1 day' where right(key, 2) in ('11', '12')");
            s.execute("vacuum analyze objects");
            s.execute("set plan_cache_mode = force_generic_plan"); // the plan a prepared statement keeps after its fifth run
            Timestamp now = Timestamp.from(Instant.now());

            String due = plan(c, LifecycleLedger.DUE, now, 500);
            assertThat(due).as(due).contains("objects_purge_due").doesNotContain("Seq Scan");
            String next = plan(c, LifecycleLedger.NEXT_PURGE);
            assertThat(next).as(next).contains("objects_purge_due").doesNotContain("Seq Scan");
            String trashed = plan(c, LifecycleLedger.TRASHED, "", 100);
            assertThat(trashed).as(trashed).contains("objects_trashed").doesNotContain("Seq Scan");
            String since = plan(c, LifecycleLedger.DELETED_SINCE, now);
            assertThat(since).as(since).doesNotContain("Seq Scan");

            // and the indexes answer what the table does
            try (PreparedStatement p = c.prepareStatement(LifecycleLedger.DUE)) {
                p.setTimestamp(1, now);
                p.setInt(2, 100_000);
                int n = 0;
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) n++;
                }
                try (ResultSet rs = s.executeQuery("select count(*) from objects where state = 'deleted' and purge_after <= now()")) {
                    rs.next();
                    assertThat(n).isEqualTo(rs.getInt(1)).isGreaterThan(0);
                }
            }
        }
    }
}
