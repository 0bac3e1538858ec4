package dev.bunker;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.config.HostPort;
import dev.bunker.config.StoreConfig;
import dev.bunker.replication.CopyState;
import dev.bunker.replication.Ledger;
import dev.bunker.store.ForwardingStore;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.sql.DataSource;

/**
 * The ledger at scale: synthesizes N objects through Bunker's own schema as it was before V23 (97% live with three
 * verified copies as rows, 1% pending in backoff, 1% trashed, 0.75% deleted and waiting for their purge), VACUUM
 * ANALYZEs, folds the verified copies into their objects as serve does after the upgrade (timed, with PUTs replicating
 * meanwhile), VACUUM FULLs, then times what counts or scans, with Bunker's own code, and prints "figure value unit" lines. Args: JDBC_URL USER N WORKDIR.
 * <p>The stores' listings for reconcile are served from the ledger (a store holding exactly what the ledger says:
 * nothing to fix), so {@code scale_reconcile_s} is reconcile's ledger side; a real store adds its own listing time.
 * Objects PUT for {@code scale_put_verified_ms} are real files in real local stores.
 */
public final class ScaleBench {
    private static final String KEY = "'users/' || lpad((g % 100000)::text, 6, '0') || '/photos/' || md5(g::text) || '.jpg'";

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        long n = Long.parseLong(args[2]);
        Path work = Path.of(args[3]);
        BunkerConfig config = config(new DatabaseConfig(url, user, null, 8), work);
        long t0 = System.nanoTime();
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC(), LedgerListing::new)) {
            DataSource db = bunker.database().dataSource();
            synthesize(db, n);
            LedgerListing.use(db);
            System.err.printf("synthesized %,d objects in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
            try (Engine engine = Engine.on(bunker)) {
                fig("scale_objects", n, "objects");
                fig("scale_bytes_per_object_rows", bytesPerObject(db, n), "B");
                foldWhileReplicating(engine, db, n);
                fig("scale_status_ms", medianMillis(7, () -> StatusReport.of(engine)), "ms");
                fig("scale_metrics_refresh_ms", medianMillis(7, () -> {
                    try (Connection c = db.getConnection()) {
                        dev.bunker.replication.LedgerCounts.fold(c);
                    }
                    engine.replication().status().read();
                }), "ms");
                fig("scale_metrics_ms", medianMillis(7, () -> bunker.metrics().scrape()), "ms");
                fig("scale_drill_sample_ms", medianMillis(7, () -> engine.replication().ledger().sampleLive(100)), "ms");
                fig("scale_purge_due_ms", medianMillis(7, () -> engine.lifecycle().purge().run(true, false, "bench")), "ms");
                fig("scale_trash_page_ms", medianMillis(7, () -> engine.lifecycle().trash().list(null, 100)), "ms");
                long r0 = System.nanoTime();
                ReconcilePhases phases = new ReconcilePhases(r0);
                var summary = engine.replication().reconcile().run(phases);
                phases.end();
                fig("scale_reconcile_s", (System.nanoTime() - r0) / 1e9, "s");
                if (summary.enqueued() != 0 || summary.newObjects() != 0) {
                    throw new IllegalStateException("reconcile found something to fix on a consistent ledger: " + summary);
                }
                fig("scale_put_verified_ms", putToVerified(engine), "ms");
                fig("scale_bytes_per_object", bytesPerObject(db, n), "B");
            }
        }
    }

    private static BunkerConfig config(DatabaseConfig database, Path work) {
        Map<String, StoreConfig> stores = new LinkedHashMap<>();
        stores.put("primary", new StoreConfig.Local("primary", StoreConfig.Tier.HOT, null, work.resolve("primary")));
        stores.put("vault", new StoreConfig.Local("vault", StoreConfig.Tier.HOT, new StoreConfig.LockConfig(Duration.ofDays(21)), work.resolve("vault")));
        stores.put("shelter", new StoreConfig.Local("shelter", StoreConfig.Tier.COLD, null, work.resolve("shelter")));
        ReplicationConfig rep = new ReplicationConfig("primary", List.of("vault", "shelter"), 4);
        return new BunkerConfig("bench", work, new HostPort("127.0.0.1", 0), database, stores, rep,
                new BunkerConfig.ApiConfig(Map.of()), BunkerConfig.LifecycleConfig.DEFAULTS, BunkerConfig.BackupsConfig.NONE);
    }

    /** Inserts N objects in slices of a million rows (one statement per table per slice, as a bulk load would). */
    private static void synthesize(DataSource db, long n) throws Exception {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            for (long from = 1; from <= n; from += 1_000_000) {
                long to = Math.min(n, from + 999_999);
                String g = "generate_series(" + from + ", " + to + ") g";
                // g % 400: 0..3 pending in backoff (1%), 4..7 trashed (1%), 8..10 deleted (0.75%), the rest live
                s.execute("insert into objects (key, size, sha256, state, trashed_at, trashed_by, deleted_at, deleted_by, purge_after, created_at) "
                        + "select " + KEY + ", 200000 + (g % 100000), md5(g::text) || md5((g + 1)::text), "
                        + "case when g % 400 between 4 and 7 then 'trashed' when g % 400 between 8 and 10 then 'deleted' else 'live' end, "
                        + "case when g % 400 between 4 and 10 then now() - interval '2 days' end, case when g % 400 between 4 and 10 then 'app' end, "
                        + "case when g % 400 between 8 and 10 then now() - interval '1 day' end, case when g % 400 between 8 and 10 then 'app' end, "
                        + "case when g % 400 between 8 and 10 then now() + interval '20 days' end, now() - interval '30 days' "
                        + "from " + g);
                s.execute("insert into copy_rows (key, store, state, store_checksum, verified_at, retain_until, legal_hold) "
                        + "select " + KEY + ", st, case when g % 400 < 4 and st <> 'primary' then 'pending' else 'verified' end, "
                        + "null, case when g % 400 < 4 and st <> 'primary' then null else now() - interval '30 days' end, "
                        + "case when st = 'vault' then now() + interval '21 days' end, st = 'vault' "
                        + "from " + g + ", unnest('{primary,vault,shelter}'::text[]) st");
                s.execute("insert into replication_jobs (key, targets, attempts, not_before, last_error) "
                        + "select " + KEY + ", '{vault,shelter}', 3, now() + interval '1 hour', 'store unavailable' from " + g + " where g % 400 < 4");
                System.err.printf("  %,d objects%n", to);
            }
            s.execute("vacuum analyze");
        }
    }

    /** Median wall time of {@code runs} calls, in milliseconds. */
    private static double medianMillis(int runs, Task task) throws Exception {
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            task.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return ms[runs / 2];
    }

    /** Median time from a PUT returning to the ledger's verified copies on both targets, over 15 objects of 256 KiB. */
    private static double putToVerified(Engine engine) throws Exception { // (workers started by foldWhileReplicating)
        Random random = new Random(1);
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 15; i++) ms.add(putOne(engine, random, "bench/put-" + i + "-" + System.nanoTime()));
        ms.sort(null);
        return ms.get(ms.size() / 2);
    }

    /** One PUT of 256 KiB, in milliseconds until its three copies are verified. */
    private static double putOne(Engine engine, Random random, String key) throws Exception {
        Ledger ledger = engine.replication().ledger();
        byte[] body = new byte[256 * 1024];
        random.nextBytes(body);
        long t = System.nanoTime();
        engine.replication().ingest().put(key, new ByteArrayInputStream(body), body.length, Sha256.hexOf(body), null);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (ledger.copies(key).stream().filter(c -> c.state() == CopyState.VERIFIED).count() < 3) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(key + " not verified on every store within 60 s");
            Thread.sleep(1);
        }
        return (System.nanoTime() - t) / 1e6;
    }

    /**
     * V23's fold of the synthesized (pre-V23) ledger as serve runs it, in batches of 10,000 copies, while objects are
     * PUT and replicated one after the other: how long the fold takes, how long a PUT waits for its copies meanwhile,
     * and the ledger's size after it, with a plain VACUUM (the space is reusable, not returned) and after VACUUM FULL.
     */
    private static void foldWhileReplicating(Engine engine, DataSource db, long n) throws Exception {
        engine.replication().workers().start();
        java.util.concurrent.atomic.AtomicBoolean folding = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.CompletableFuture<Double> fold = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long t = System.nanoTime();
            try (Connection c = db.getConnection()) {
                while (!dev.bunker.replication.CopyRecords.fold(c, 10_000, 2_000)) {
                    System.err.print(".");
                }
                return (System.nanoTime() - t) / 1e9;
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            } finally {
                folding.set(false);
            }
        });
        Random random = new Random(2);
        List<Double> ms = new ArrayList<>();
        while (folding.get()) ms.add(putOne(engine, random, "bench/fold-" + ms.size() + "-" + System.nanoTime()));
        fig("scale_fold_s", fold.join(), "s");
        ms.sort(null);
        fig("scale_fold_puts", ms.size(), "objects");
        fig("scale_put_verified_during_fold_ms", ms.isEmpty() ? 0 : ms.get(ms.size() / 2), "ms");
        fig("scale_put_verified_during_fold_max_ms", ms.isEmpty() ? 0 : ms.get(ms.size() - 1), "ms");
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            dev.bunker.replication.LedgerCounts.fold(c); // as serve's refresher does every 5 s: the PUTs' deltas folded
            s.execute("vacuum analyze");
            fig("scale_bytes_per_object_folded_vacuum", bytesPerObject(db, n), "B");
            long t = System.nanoTime();
            s.execute("vacuum full objects");
            s.execute("vacuum full copy_rows");
            s.execute("analyze");
            fig("scale_vacuum_full_s", (System.nanoTime() - t) / 1e9, "s");
        }
    }

    private static double bytesPerObject(DataSource db, long n) throws Exception {
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace ns on ns.oid = c.relnamespace"
                     + " where ns.nspname = 'bunker' and c.relkind = 'r'")) {
            rs.next();
            return rs.getDouble(1) / n;
        }
    }

    /**
     * Times reconcile's steps from its progress lines (to stderr): per store, the listing's pages and then the ledger's
     * statements after it (new objects, copies gone), and the policy walk.
     */
    private static final class ReconcilePhases implements java.util.function.Consumer<String> {
        private String phase;
        private long phaseStart;
        private long lastLine;

        ReconcilePhases(long start) {
            phaseStart = start;
            lastLine = start;
        }

        @Override
        public void accept(String line) {
            String p = line.substring(0, Math.max(0, line.indexOf(':')));
            long now = System.nanoTime();
            if (!p.equals(phase)) {
                if (phase != null) report(now);
                phase = p;
                phaseStart = now;
            }
            lastLine = now;
        }

        void end() {
            report(System.nanoTime());
        }

        private void report(long now) {
            System.err.printf("reconcile step '%s': %.1f s (then %.1f s until the next step)%n", phase, (lastLine - phaseStart) / 1e9,
                    (now - lastLine) / 1e9);
        }
    }

    private static void fig(String name, double value, String unit) {
        System.out.printf("%s %.3f %s%n", name, value, unit);
    }

    /** A local store that lists what the ledger says it holds verified (the bench writes no files for them); reconcile lists with an empty prefix. */
    static final class LedgerListing extends ForwardingStore {
        private static final String PAGE = """
                select key, size from (
                    (select o.key, o.size from objects o where o.key > ? and o.verified_on & ? <> 0 order by o.key limit ?)
                    union all
                    (select c.key, (select o.size from objects o where o.key = c.key) from copy_rows c
                      where c.key > ? and c.store = ? and c.state = 'verified' order by c.key limit ?)) u
                 order by key limit ?
                """; // (the copy_states view, as its two halves: a page of the view itself sorts every object after the cursor)
        private static volatile DataSource db;

        LedgerListing(Store inner) {
            super(inner);
        }

        static void use(DataSource ledger) {
            db = ledger;
        }

        @Override
        public ListPage list(String prefix, String startAfter, int limit) {
            ListPage real = super.list(prefix, startAfter, limit); // the bench's own files, listed too
            if (db == null) return real;
            List<ObjectInfo> out = new ArrayList<>(real.objects());
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(PAGE)) {
                String after = startAfter == null ? "" : startAfter;
                ps.setString(1, after);
                ps.setInt(2, dev.bunker.replication.CopyRecords.bit(c, name()));
                ps.setInt(3, limit);
                ps.setString(4, after);
                ps.setString(5, name());
                ps.setInt(6, limit);
                ps.setInt(7, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getString(1).startsWith(prefix)) out.add(new ObjectInfo(rs.getString(1), rs.getLong(2), null, null, null));
                    }
                }
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            out.sort(java.util.Comparator.comparing(ObjectInfo::key));
            List<ObjectInfo> page = out.subList(0, Math.min(limit, out.size()));
            return new ListPage(List.copyOf(page), page.size() < limit ? null : page.get(page.size() - 1).key());
        }
    }

    /** A step that may throw. */
    @FunctionalInterface
    interface Task {
        void run() throws Exception;
    }
}
