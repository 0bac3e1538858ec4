package dev.bunker.replication;

import dev.bunker.config.BunkerConfig.Batching;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.db.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Queue throughput alone, on the workers' own path: THREADS threads claim jobs through {@link ReplicationJobs} (1 or
 * 32 per statement) and hand each, finished with nothing to copy, to the {@link GroupCommit}, which records a batch
 * of jobs per transaction ({@link FinishJob#recordAll}: one statement locks the jobs still held, one completes them).
 * Prints "figure value unit" lines. Args: JDBC_URL USER ITEMS THREADS.
 */
public final class QueueBench {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        int items = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        Duration commitWait = args.length > 4 ? Duration.ofMillis(Long.parseLong(args[4])) : null; // null: the configuration's default
        try (Database db = Database.open(new DatabaseConfig(url, user, null, threads + 4), Path.of("."))) {
            Clock clock = Clock.systemUTC();
            ReplicationJobs jobs = new ReplicationJobs(db.dataSource(), clock);
            for (int claim : new int[] {1, 32}) {
                try (Connection c = db.connection(); Statement s = c.createStatement()) {
                    s.execute("truncate objects cascade");
                    s.execute("insert into objects (key, size, sha256) select 'objects/' || md5(g::text) || '/' || g, 1, null from generate_series(1, " + items + ") g");
                    s.execute("insert into replication_jobs (key, targets) select key, '{vault,shelter}' from objects");
                    s.execute("vacuum analyze replication_jobs");
                }
                ReplicationConfig config = new ReplicationConfig("primary", List.of("vault", "shelter"), threads);
                FinishJob finish = new FinishJob(db.dataSource(), config, clock);
                AtomicLong done = new AtomicLong();
                GroupCommit commit = new GroupCommit(Map.of(), finish, new ReplicationMetrics(new SimpleMeterRegistry()),
                        new Batching(claim, 256, commitWait != null ? commitWait : Batching.defaultsFor(threads).commitWait()));
                commit.start();
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    pool.submit(() -> {
                        while (true) {
                            UUID owner = UUID.randomUUID();
                            List<Job> claimed = jobs.claim(owner, Duration.ofSeconds(30), claim);
                            if (claimed.isEmpty()) return null;
                            for (Job j : claimed) {
                                commit.submit(new GroupCommit.Finished(j, owner, () -> true,
                                        new FinishJob.Attempt(CopyObject.Outcome.gone(), List.of(), null, false), o -> done.incrementAndGet()));
                            }
                        }
                    });
                }
                pool.shutdown();
                pool.awaitTermination(1, TimeUnit.HOURS);
                commit.close();
                double secs = (System.nanoTime() - t0) / 1e9;
                long left;
                try (Connection c = db.connection(); Statement s = c.createStatement();
                     var rs = s.executeQuery("select count(*) from replication_jobs")) {
                    rs.next();
                    left = rs.getLong(1);
                }
                if (done.get() != items || left != 0) throw new IllegalStateException("completed " + done.get() + " of " + items + ", " + left + " left");
                System.out.printf("bunker_queue_claim%d_items_per_s %.0f items/s%n", claim, items / secs);
            }
        }
    }
}
