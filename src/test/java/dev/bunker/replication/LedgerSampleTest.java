package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.db.Database;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The drill's random sample: exact on a small ledger, from random pages on a large one, live objects only either way. */
@Timeout(120)
class LedgerSampleTest {
    @TempDir
    Path dir;

    @Test
    void aSmallLedgerGivesEveryLiveObjectWhenAskedForMore() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir)) {
            fill(db, 300);
            List<Ledger.Sampled> all = new Ledger(db.dataSource()).sampleLive(1_000);
            assertThat(all).hasSize(290); // 10 of 300 trashed
            assertThat(all).allSatisfy(s -> assertThat(Integer.parseInt(s.key().substring(2)) % 30).isNotZero());
        }
    }

    @Test
    void aLargeLedgerIsSampledFromRandomPagesWithDifferentPicksEachTime() throws Exception {
        int n = (int) Ledger.SMALL_LEDGER + 20_000;
        try (Database db = Database.open(TestDatabase.fresh(), dir)) {
            fill(db, n);
            Ledger ledger = new Ledger(db.dataSource());
            List<Ledger.Sampled> first = ledger.sampleLive(100);
            List<Ledger.Sampled> second = ledger.sampleLive(100);
            assertThat(first).hasSize(100);
            assertThat(first.stream().map(Ledger.Sampled::key).distinct()).hasSize(100);
            assertThat(first).allSatisfy(s -> {
                assertThat(Integer.parseInt(s.key().substring(2)) % 30).as("never a trashed object").isNotZero();
                assertThat(s.sha256()).hasSize(64);
            });
            Set<String> overlap = new HashSet<>(first.stream().map(Ledger.Sampled::key).toList());
            overlap.retainAll(second.stream().map(Ledger.Sampled::key).toList());
            assertThat(overlap.size()).as("two samples of 100 among %d objects barely overlap", n).isLessThan(50);
            Set<Integer> pages = new HashSet<>();
            for (Ledger.Sampled s : first) pages.add(Integer.parseInt(s.key().substring(2)) / 1_000);
            assertThat(pages.size()).as("picked from across the table, not one stretch of it").isGreaterThan(4);
        }
    }

    /** {@code n} objects k-1..k-n, every 30th trashed, all with a SHA-256; analyzed so the planner's estimate is right. */
    private static void fill(Database db, int n) throws Exception {
        try (Connection c = db.connection(); Statement s = c.createStatement()) {
            s.execute("insert into objects (key, size, sha256, state) select 'k-' || g, g, md5(g::text) || md5(g::text), "
                    + "case when g % 30 = 0 then 'trashed' else 'live' end from generate_series(1, " + n + ") g");
            s.execute("analyze objects");
        }
    }
}
