package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.db.Database;
import dev.bunker.db.Tx;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** V23's compact ledger: verified copies folded into their objects' rows, the fold of an older ledger, and the one table copy_states shows. */
@Timeout(180)
class CompactLedgerTest {
    private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aVerifiedLocalCopyIsABitAndKeepsItsRetentionHoldAndVerificationThroughEveryChange() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir)) {
            Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Tx.execute(db.dataSource(), c -> {
                Ledger.insert(c, "a/b.jpg", 10L, "ab".repeat(32));
                CopyRecords.copiesPending(c, "a/b.jpg", List.of("vault", "shelter"));
                CopyRecords.copyVerified(c, "a/b.jpg", "primary", null, null, null, false, now);
                CopyRecords.copyVerified(c, "a/b.jpg", "vault", null, null, T, true, now);
            });
            Ledger ledger = new Ledger(db.dataSource());
            try (Connection c = db.connection()) {
                assertThat(rows(c, "select count(*) from copy_rows where state = 'verified'")).as("no row for a verified local copy").isZero();
                assertThat(rows(c, "select count(*) from copy_rows")).as("the shelter's pending row").isEqualTo(1);
                assertThat(folded(c)).isEqualTo("primary,vault");
            }
            Map<String, CopyRow> copies = byStore(ledger.copies("a/b.jpg"));
            assertThat(copies.get("vault")).isEqualTo(new CopyRow("vault", CopyState.VERIFIED, now, T, true, null, null, null));
            assertThat(copies.get("primary")).isEqualTo(new CopyRow("primary", CopyState.VERIFIED, now, null, false, null, null, null));
            assertThat(copies.get("shelter").state()).isEqualTo(CopyState.PENDING);
            assertThat(ledger.keptWithoutVerifiedCopyOutside(List.of("primary"))).isZero();
            assertThat(ledger.keptWithoutVerifiedCopyOutside(List.of("primary", "vault"))).isEqualTo(1);
            assertThat(ledger.keptWithoutVerifiedCopyOn(List.of("shelter"))).isEqualTo(1);
            assertThat(ledger.keptWithoutVerifiedCopyOn(List.of("vault", "nowhere"))).isZero();

            Instant later = T.plus(30, ChronoUnit.DAYS);
            Tx.execute(db.dataSource(), c -> CopyRecords.holdReleased(c, "a/b.jpg", "vault", later));
            assertThat(byStore(ledger.copies("a/b.jpg")).get("vault")).isEqualTo(new CopyRow("vault", CopyState.VERIFIED, now, later, false, null, null, null));
            ledger.mark("a/b.jpg", "vault", CopyState.CORRUPT, "drill: wrong bytes");
            CopyRow corrupt = byStore(ledger.copies("a/b.jpg")).get("vault");
            assertThat(corrupt).as("a row now, with the retention it had").isEqualTo(new CopyRow("vault", CopyState.CORRUPT, now, later, false, null,
                    "drill: wrong bytes", null));
            try (Connection c = db.connection()) {
                assertThat(folded(c)).isEqualTo("primary");
                assertThat(CopyRecords.latestRetainUntil(c, "a/b.jpg")).isEqualTo(later);
            }
            // repaired as a new version on a versioned store: a row; then verified again without one: a bit, retention kept
            Tx.execute(db.dataSource(), c -> CopyRecords.copyVerified(c, "a/b.jpg", "vault", "sum", "v2", T, true, now));
            assertThat(byStore(ledger.copies("a/b.jpg")).get("vault")).isEqualTo(new CopyRow("vault", CopyState.VERIFIED, now, T, true, "sum", null, "v2"));
            Tx.execute(db.dataSource(), c -> CopyRecords.copyVerified(c, "a/b.jpg", "vault", null, null, null, true, now.plusSeconds(1)));
            assertThat(byStore(ledger.copies("a/b.jpg")).get("vault")).as("the row's retention carried into the object's")
                    .isEqualTo(new CopyRow("vault", CopyState.VERIFIED, now.plusSeconds(1), T, true, null, null, null));
            Tx.execute(db.dataSource(), c -> CopyRecords.markUnlessVerified(c, "a/b.jpg", "vault", CopyState.FAILED, "late worker"));
            assertThat(byStore(ledger.copies("a/b.jpg")).get("vault").state()).as("never downgrades a folded verified copy").isEqualTo(CopyState.VERIFIED);
            try (Connection c = db.connection()) {
                assertThat(rows(c, "select count(*) from copy_rows where store = 'vault'")).isZero();
                assertNoCopyTwice(c);
                LedgerCountsTest.assertCountsMatchTheTables(c);
            }
        }
    }

    @Test
    void aCopyFoldedWhileAnotherWriterTurnsItIntoARowKeepsThatRowsRetention() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir)) {
            Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Tx.execute(db.dataSource(), c -> {
                Ledger.insert(c, "r", 5L, "cd".repeat(32));
                CopyRecords.copyVerified(c, "r", "vault", null, null, T, true, now);
            });
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try (Connection first = db.connection()) {
                first.setAutoCommit(false);
                CopyRecords.mark(first, "r", "vault", CopyState.CORRUPT, "drill: wrong bytes"); // holds r; the copy a row, retained until T
                Future<?> second = pool.submit(() -> {
                    Tx.execute(db.dataSource(), c -> CopyRecords.copiesVerified(c,
                            List.of(new CopyRecords.VerifiedCopy("r", "vault", null, null, null, false)), now.plusSeconds(1)));
                    return null;
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (rows(first, "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'") == 0) {
                    assertThat(System.nanoTime()).as("the second writer waits for the object").isLessThan(deadline);
                    Thread.sleep(20);
                }
                first.commit();
                second.get(30, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertThat(byStore(new Ledger(db.dataSource()).copies("r")).get("vault")).as("folded again, with the retention the row carried")
                    .isEqualTo(new CopyRow("vault", CopyState.VERIFIED, now.plusSeconds(1), T, false, null, null, null));
            try (Connection c = db.connection()) {
                assertNoCopyTwice(c);
                LedgerCountsTest.assertCountsMatchTheTables(c);
            }
        }
    }

    @Test
    void aLedgerFromBeforeV23IsFoldedInBatchesWhileWritersChangeTheSameCopies() throws Exception {
        DatabaseConfig config = TestDatabase.fresh();
        String url = config.url() + (config.url().contains("?") ? "&" : "?") + "currentSchema=bunker";
        Flyway.configure().dataSource(url, config.user(), null).schemas("bunker").createSchemas(true)
                .locations("classpath:db/migration").target("22").load().migrate();
        try (Connection c = DriverManager.getConnection(url, config.user(), null); Statement s = c.createStatement()) {
            s.execute("insert into objects (key, size, sha256) select 'k' || lpad(g::text, 5, '0'), g, md5(g::text) || md5(g::text) from generate_series(1, 3000) g");
            s.execute("insert into copies (key, store, state, verified_at, size) select key, 'primary', 'verified', now() - interval '1 day', size from objects");
            s.execute("insert into copies (key, store, state, verified_at, retain_until, legal_hold, size, version_id, store_checksum) "
                    + "select key, 'vault', case when size % 10 = 0 then 'missing' else 'verified' end, now() - interval '1 day', "
                    + "'2030-01-01'::timestamptz + size * interval '1 second', size % 3 = 0, size, "
                    + "case when size % 7 = 0 then 'v' || size end, case when size % 11 = 0 then 'sum' || size end from objects");
            s.execute("insert into copies (key, store, state, size) select key, 'shelter', case when size % 4 = 0 then 'pending' else 'verified' end, size from objects");
        }
        try (Database db = Database.open(config, dir)) {
            Map<String, String> before = snapshot(db);
            try (Connection c = db.connection()) {
                LedgerCountsTest.assertCountsMatchTheTables(c);
            }
            // Writers change copies of the first 500 keys while the fold walks them; what they write is what must remain.
            Map<String, String> expected = new java.util.concurrent.ConcurrentHashMap<>(before);
            AtomicBoolean folding = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int seed = w;
                writers.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    int writes = 0;
                    while (folding.get() || writes < 200) {
                        String key = "k" + String.format("%05d", 1 + random.nextInt(250) * 2 + seed); // each writer its own keys
                        String store = List.of("primary", "vault", "shelter").get(random.nextInt(3));
                        retrying(() -> {
                            if (random.nextBoolean()) {
                                Tx.execute(db.dataSource(), c -> CopyRecords.mark(c, key, store, CopyState.MISSING, "gone"));
                                expected.put(key + " " + store, "missing");
                            } else {
                                Tx.execute(db.dataSource(), c -> CopyRecords.copyVerified(c, key, store, null, null, null, false, Instant.now()));
                                expected.put(key + " " + store, "verified");
                            }
                        });
                        writes++;
                    }
                    return null;
                }));
            }
            Future<Integer> fold = pool.submit(() -> {
                int calls = 0;
                try (Connection c = db.connection()) {
                    while (true) {
                        calls++;
                        try {
                            if (CopyRecords.fold(c, 100, 0)) break;
                        } catch (SQLException gaveWay) { // a lock it waited on too long, or a deadlock: retried, as serve's next round does
                            assertThat(gaveWay.getSQLState()).as(gaveWay.getMessage()).isIn("55P03", "40P01");
                        }
                    }
                } finally {
                    folding.set(false);
                }
                return calls;
            });
            assertThat(fold.get()).as("one batch per call").isGreaterThan(80);
            for (Future<?> w : writers) w.get();
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

            Map<String, String> after = snapshot(db);
            assertThat(after.keySet()).isEqualTo(expected.keySet());
            for (var e : after.entrySet()) {
                assertThat(e.getValue().split(" ")[0]).as(e.getKey()).isEqualTo(expected.get(e.getKey()).split(" ")[0]);
                if (expected.get(e.getKey()).equals(before.get(e.getKey()))) {
                    assertThat(e.getValue()).as("untouched by the writers: everything as before, " + e.getKey()).isEqualTo(before.get(e.getKey()));
                }
            }
            try (Connection c = db.connection()) {
                assertThat(rows(c, "select count(*) from copy_rows where state = 'verified' and version_id is null and store_checksum is null"))
                        .as("every plain verified row folded").isZero();
                // keys above k00600 are the writers' to leave alone: their verified rows are the seed's versioned or checksummed vault copies
                assertThat(rows(c, "select count(*) from copy_rows where state = 'verified' and key > 'k00600'")).as("versioned or checksummed rows stay rows")
                        .isEqualTo(rows(c, "select count(*) from generate_series(601, 3000) g where g % 10 <> 0 and (g % 7 = 0 or g % 11 = 0)"));
                assertThat(rows(c, "select count(*) from copy_fold where done")).isEqualTo(1);
                assertNoCopyTwice(c);
                LedgerCountsTest.assertCountsMatchTheTables(c);
                assertThat(CopyRecords.fold(c, 100, 0)).as("done stays done").isTrue();
            }
        }
    }

    @FunctionalInterface
    private interface Write {
        void run() throws SQLException;
    }

    /** Every copy as "key store" -> "state retain_until legal_hold version_id store_checksum". */
    private static Map<String, String> snapshot(Database db) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = db.connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select key, store, state, retain_until, legal_hold, version_id, store_checksum from copy_states")) {
            while (rs.next()) {
                out.put(rs.getString(1) + " " + rs.getString(2), rs.getString(3) + " " + rs.getTimestamp(4) + " " + rs.getBoolean(5) + " "
                        + rs.getString(6) + " " + rs.getString(7));
            }
        }
        return out;
    }

    private static void assertNoCopyTwice(Connection c) throws SQLException {
        assertThat(rows(c, "select count(*) from (select key, store from copy_states group by key, store having count(*) > 1) d"))
                .as("a copy is a row or a bit, never both").isZero();
    }

    /** Runs {@code write}, again after a deadlock (the fold holds its batch's objects in key order, a writer in its own). */
    private static void retrying(Write write) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                write.run();
                return;
            } catch (SQLException e) {
                if (!"40P01".equals(e.getSQLState()) || attempt > 5) throw e;
            }
        }
    }

    /** The stores whose copies of the (one) object are folded into its row. */
    private static String folded(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "select string_agg(s.name, ',' order by s.name) from objects o join stores s on o.verified_on & (1 << s.id) <> 0")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Map<String, CopyRow> byStore(List<CopyRow> rows) {
        Map<String, CopyRow> out = new TreeMap<>();
        for (CopyRow r : rows) out.put(r.store(), r);
        return out;
    }

    private static long rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
