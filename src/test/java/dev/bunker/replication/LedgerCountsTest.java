package dev.bunker.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.db.Database;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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

/** The counts status and metrics read (V10's triggers, folded by LedgerCounts) against count(*) of the tables themselves. */
@Timeout(120)
class LedgerCountsTest {
    @TempDir
    Path dir;

    @Test
    void countsFollowEveryKindOfChangeWhileFoldsRunConcurrently() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir)) {
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int seed = w;
                writers.add(pool.submit(() -> {
                    churn(db, seed);
                    return null;
                }));
            }
            List<Future<Integer>> folders = new ArrayList<>();
            for (int f = 0; f < 2; f++) {
                folders.add(pool.submit(() -> {
                    int folds = 0;
                    while (writing.get()) {
                        try (Connection c = db.connection()) {
                            LedgerCounts.fold(c);
                            folds++;
                        }
                    }
                    return folds;
                }));
            }
            for (Future<?> w : writers) w.get();
            writing.set(false);
            for (Future<Integer> f : folders) assertThat(f.get()).isPositive();
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            try (Connection c = db.connection()) {
                assertCountsMatchTheTables(c);
                LedgerCounts.fold(c);
                assertCountsMatchTheTables(c);
                assertThat(rows(c, "select count(*) from ledger_counts")).as("one row per group after a quiet fold")
                        .isEqualTo(rows(c, "select count(*) from (select distinct what, store, state from ledger_counts) g"));
            }
        }
    }

    @Test
    void aLedgerFromBeforeTheCountsIsCountedByTheMigration() throws Exception {
        DatabaseConfig config = TestDatabase.fresh();
        String url = config.url() + (config.url().contains("?") ? "&" : "?") + "currentSchema=bunker";
        Flyway.configure().dataSource(url, config.user(), null).schemas("bunker").createSchemas(true)
                .locations("classpath:db/migration").target("9").load().migrate();
        try (Connection c = DriverManager.getConnection(url, config.user(), null); Statement s = c.createStatement()) {
            s.execute("insert into objects (key, size, state) select 'k' || g, g, case when g % 10 = 0 then 'trashed' else 'live' end from generate_series(1, 500) g");
            s.execute("insert into copies (key, store, state) select key, 'vault', case when size % 7 = 0 then 'pending' else 'verified' end from objects");
            s.execute("insert into replication_jobs (key, state) select key, 'pending' from objects where size % 7 = 0");
        }
        try (Database db = Database.open(config, dir); Connection c = db.connection()) {
            LedgerCounts.Counts counts = LedgerCounts.read(c);
            assertThat(counts.objectsIn("live").count()).isEqualTo(450);
            assertThat(counts.objectsIn("trashed").bytes()).isEqualTo(rows(c, "select sum(size) from objects where state = 'trashed'"));
            assertThat(counts.copies().get("vault")).isEqualTo(Map.of("pending", 71L, "verified", 429L));
            // Copies from before V18 have no size until serve's fill gives them their objects' (batches of 64 here), counted as it goes.
            assertThat(counts.copyBytes().get("vault").get("verified")).isZero();
            try (Statement s = c.createStatement()) { // recorded since: sized already
                s.execute("insert into copy_rows (key, store, state, size) values ('k1', 'shelter', 'verified', 1)");
            }
            int rounds = 0;
            while (!CopyRecords.fillCopySizes(c, 64, 0)) rounds++;
            assertThat(rounds).as("one batch per call once past the budget").isGreaterThan(5);
            assertThat(CopyRecords.fillCopySizes(c, 64, 0)).as("done stays done").isTrue();
            assertThat(rows(c, "select count(*) from copy_rows where size is null")).isZero();
            assertThat(LedgerCounts.read(c).copyBytes().get("vault").get("verified")).isEqualTo(rows(c, "select sum(size) from objects where size % 7 <> 0"));
            assertThat(counts.jobs()).isEqualTo(Map.of("pending", 71L));
            assertCountsMatchTheTables(c);
        }
    }

    @Test
    void anAppRoleWithTheGrantsTheReadmeNamesRecordsThroughTheOutboxAndCannotTouchTheCountsOrTheCopies() throws Exception {
        try (Database db = Database.open(TestDatabase.fresh(), dir); Connection c = db.connection(); Statement s = c.createStatement()) {
            String role = "app_" + Long.toHexString(System.nanoTime());
            s.execute("create role " + role);
            s.execute("grant usage on schema bunker to " + role);
            s.execute("grant execute on function bunker.replicate_object(text, bigint, text) to " + role);
            s.execute("set role " + role);
            s.execute("select bunker.replicate_object('photos/a.jpg', 123, null)");
            assertThatThrownBy(() -> s.execute("update bunker.objects set verified_on = 7")).as("no copy claimed verified by the app")
                    .hasMessageContaining("permission denied");
            assertThatThrownBy(() -> s.execute("select bunker.unfold_copy('photos/a.jpg', 'vault')")).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> s.execute("insert into bunker.ledger_counts (what, state, n) values ('objects', 'live', -1000)"))
                    .hasMessageContaining("permission denied");
            s.execute("create temp table mine (state text, size bigint)");
            assertThatThrownBy(() -> s.execute("create trigger forged after insert on mine referencing new table as new_rows"
                    + " for each statement execute function bunker.count_objects()")).hasMessageContaining("permission denied");
            s.execute("reset role");
            LedgerCounts.Counts counts = LedgerCounts.read(c);
            assertThat(counts.objectsIn("live")).isEqualTo(new LedgerCounts.Amount(1, 123));
            assertThat(counts.jobs()).isEqualTo(Map.of("pending", 1L));
            s.execute("drop owned by " + role);
            s.execute("drop role " + role);
        }
    }

    /** Inserts, upserts, state changes (some to the same state), size learned, cascading deletes and re-used keys. */
    private static void churn(Database db, int seed) throws SQLException {
        Random random = new Random(seed);
        String[] states = {"pending", "verified", "missing", "corrupt", "failed"};
        String[] objectStates = {"live", "trashed", "deleting", "deleted"};
        try (Connection c = db.connection(); Statement s = c.createStatement()) {
            for (int round = 0; round < 60; round++) {
                String p = "w" + seed + "/" + random.nextInt(40) + "/";
                c.setAutoCommit(random.nextBoolean());
                s.execute("insert into objects (key, size) select '" + p + "' || g, " + (random.nextBoolean() ? "g" : "null")
                        + " from generate_series(1, 20) g on conflict (key) do nothing");
                s.execute("insert into copy_rows (key, store, state, size) select key, st, 'pending', size from objects, unnest('{vault,shelter}'::text[]) st"
                        + " where key like '" + p + "%' on conflict (key, store) do update set state = 'pending'");
                s.execute("insert into replication_jobs (key) select key from objects where key like '" + p + "%'"
                        + " on conflict (key) do update set state = 'pending', version = replication_jobs.version + 1");
                s.execute("update copy_rows set state = '" + states[random.nextInt(states.length)] + "' where key like '" + p + "1%'");
                s.execute("update copy_rows set verified_at = now() where key like '" + p + "2%'"); // not a counted column
                s.execute("update objects set state = '" + objectStates[random.nextInt(objectStates.length)] + "' where key like '" + p + "3%'");
                s.execute("update objects set size = 7 where key like '" + p + "4%' and size is null");
                s.execute("update copy_rows set size = 7, state = 'verified' where key like '" + p + "4%' and size is null"); // recorded again, sized
                s.execute("update replication_jobs set state = 'failed' where key like '" + p + "5%'");
                s.execute("update replication_jobs set lease_owner = gen_random_uuid() where key like '" + p + "6%'");
                if (random.nextInt(4) == 0) s.execute("delete from replication_jobs where key like '" + p + "7%'");
                if (random.nextInt(3) == 0) s.execute("delete from objects where key like '" + p + "%'"); // cascades to copies and jobs
                if (!c.getAutoCommit()) {
                    if (random.nextInt(5) == 0) c.rollback(); else c.commit();
                    c.setAutoCommit(true);
                }
            }
        }
    }

    static void assertCountsMatchTheTables(Connection c) throws SQLException {
        LedgerCounts.Counts counts = LedgerCounts.read(c);
        Map<String, LedgerCounts.Amount> objects = new TreeMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select state, count(*), coalesce(sum(size), 0) from objects group by state")) {
            while (rs.next()) objects.put(rs.getString(1), new LedgerCounts.Amount(rs.getLong(2), rs.getLong(3)));
        }
        Map<String, Map<String, Long>> copies = new TreeMap<>();
        Map<String, Map<String, Long>> copyBytes = new TreeMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select store, state, count(*), coalesce(sum(size), 0) from copy_states group by store, state")) {
            while (rs.next()) {
                copies.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
                copyBytes.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(4));
            }
        }
        Map<String, Long> jobs = new TreeMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select state, count(*) from replication_jobs group by state")) {
            while (rs.next()) jobs.put(rs.getString(1), rs.getLong(2));
        }
        assertThat(objects).as("objects per state").isNotEmpty();
        assertThat(counts.objects()).isEqualTo(objects);
        assertThat(counts.copies()).isEqualTo(copies);
        assertThat(counts.copyBytes()).as("bytes per store and copy state").isEqualTo(copyBytes);
        assertThat(copyBytes.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum()).as("some copies sized").isPositive();
        assertThat(counts.jobs()).isEqualTo(jobs);
    }

    private static long rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
