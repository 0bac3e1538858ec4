package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.db.Database;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reconcile's page of the ledger looks up each key's copies and job by index, whatever the size of the queue: a page
 * that hashed the whole queue (as an {@code exists} was planned with a large backlog) made a pass quadratic.
 */
@Timeout(120)
class ReconcilePageTest {
    @TempDir Path dir;

    @Test
    void aPageLooksUpEachKeysJobInsteadOfHashingTheWholeQueue() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir); Connection c = db.connection(); Statement s = c.createStatement()) {
            // a backlog: 100,000 objects, each with a job, and one verified copy on every third
            s.execute("insert into objects (key, size, sha256) select 'k-' || lpad(g::text, 6, '0'), g, md5(g::text) || md5(g::text) "
                    + "from generate_series(1, 100000) g");
            s.execute("insert into replication_jobs (key) select key from objects where key >= 'k-050000'");
            s.execute("insert into copy_rows (key, store, state) select key, 'vault', 'verified' from objects where right(key, 1) in ('0', '3', '6')");
            s.execute("analyze objects; analyze copy_rows; analyze replication_jobs");
            s.execute("set plan_cache_mode = force_generic_plan"); // the plan a prepared statement keeps after its fifth run

            List<String> plan = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("explain " + Reconcile.PAGE)) {
                p.setString(1, "k-049990");
                p.setInt(2, 1000);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) plan.add(rs.getString(1));
                }
            }
            String text = String.join("\n", plan);
            assertThat(text).as(text).doesNotContain("hashed SubPlan").doesNotContain("Seq Scan on replication_jobs")
                    .contains("replication_jobs_key_key");

            // and it says what it should: keys in order from the bound, their verified stores, whether a job holds them
            try (PreparedStatement p = c.prepareStatement(Reconcile.PAGE)) {
                p.setString(1, "k-049990");
                p.setInt(2, 20);
                try (ResultSet rs = p.executeQuery()) {
                    List<String> rows = new ArrayList<>();
                    while (rs.next()) {
                        rows.add(rs.getString(1) + " " + String.join(",", (String[]) rs.getArray(2).getArray()) + " " + rs.getBoolean(3));
                    }
                    assertThat(rows).hasSize(20).startsWith("k-049991  false", "k-049992  false", "k-049993 vault false")
                            .contains("k-050000 vault true", "k-050001  true");
                }
            }
        }
    }
}
