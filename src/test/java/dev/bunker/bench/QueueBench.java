package dev.bunker.bench;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.db.Database;
import dev.bunker.replication.Job;
import dev.bunker.replication.ReplicationJobs;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Queue throughput alone: claim + complete of metadata-only jobs through {@link ReplicationJobs}, with
 * several worker threads, claiming 1 and 32 jobs per statement. Prints "figure value unit" lines.
 * Args: JDBC_URL USER ITEMS THREADS.
 */
public final class QueueBench {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        int items = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        try (Database db = Database.open(new DatabaseConfig(url, user, null, threads + 2), Path.of("."))) {
            ReplicationJobs jobs = new ReplicationJobs(db.dataSource(), java.time.Clock.systemUTC());
            for (int batch : new int[] {1, 32}) {
                try (Connection c = db.connection(); Statement s = c.createStatement()) {
                    s.execute("truncate objects cascade");
                    s.execute("insert into objects (key, size, sha256) select 'objects/' || md5(g::text) || '/' || g, 1, null from generate_series(1, " + items + ") g");
                    s.execute("insert into replication_jobs (key, targets) select key, '{vault,shelter}' from objects");
                    s.execute("vacuum analyze replication_jobs");
                }
                AtomicLong done = new AtomicLong();
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    pool.submit(() -> {
                        UUID owner = UUID.randomUUID();
                        while (true) {
                            List<Job> claimed = jobs.claim(owner, Duration.ofSeconds(30), batch);
                            if (claimed.isEmpty()) return null;
                            for (Job j : claimed) jobs.complete(j, owner, List.of("vault", "shelter"));
                            done.addAndGet(claimed.size());
                        }
                    });
                }
                pool.shutdown();
                pool.awaitTermination(1, TimeUnit.HOURS);
                double secs = (System.nanoTime() - t0) / 1e9;
                if (done.get() != items) throw new IllegalStateException("completed " + done.get() + " of " + items);
                System.out.printf("bunker_queue_claim%d_items_per_s %.0f items/s%n", batch, items / secs);
            }
        }
    }
}
