package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigException;
import dev.bunker.drill.DrillRuns;
import dev.bunker.drill.Drills;
import dev.bunker.json.Json;
import dev.bunker.replication.Replication;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker drill db|objects|failover|history}: prove the backups and replicas can bring the service back. */
@Command(name = "drill", mixinStandardHelpOptions = true, description = "Run restore drills and show their history.",
        subcommands = {DrillCommand.Db.class, DrillCommand.Objects.class, DrillCommand.Failover.class, DrillCommand.History.class})
public final class DrillCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Work done with the drills part alone. */
    interface DrillWork {
        int apply(Drills drills) throws Exception;
    }

    /** Opens Bunker with only the parts a drill uses: the drills and the replication they re-enqueue bad copies on. */
    static int withDrills(BunkerConfig config, DrillWork work) throws Exception {
        try (Bunker bunker = Bunker.open(config, Clock.systemUTC());
                Replication replication = Engine.replication(bunker);
                Drills drills = Engine.drills(bunker, replication)) {
            return work.apply(drills);
        }
    }

    /** Prints a run; exit code 0 if it passed, 1 if not. */
    static int report(DrillRuns.Run r, boolean json) throws Exception {
        if (json) {
            System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        } else {
            System.out.println(r.kind() + " drill " + (r.ok() ? "PASSED" : "FAILED") + (r.backupId() == null ? "" : " with backup " + r.backupId()));
            if (r.backupAgeSeconds() != null) {
                System.out.println(r.backupAgeSeconds() < 3600 ? String.format("  achieved RPO: the restored data was %.0f s behind", r.backupAgeSeconds())
                        : String.format("  achieved RPO: backup was %.1f h old", r.backupAgeSeconds() / 3600));
            }
            if (r.restoreSeconds() != null) System.out.printf("  achieved RTO: fresh server + restore in %.1f s%n", r.restoreSeconds());
            for (DrillRuns.Check c : r.checks()) System.out.println("  " + (c.ok() ? "ok   " : "FAIL ") + c.name() + ": " + c.detail());
        }
        return r.ok() ? 0 : 1;
    }

    @Command(name = "db", mixinStandardHelpOptions = true,
            description = "Restore the newest backup (found in a backup store, not the catalog) into a fresh throwaway PostgreSQL and check it; a "
                    + "source with pitr is restored as it was a minute ago (base backup + WAL) and started. Exit code 1 if it fails.")
    static final class Db implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--source", paramLabel = "S", description = "Drill this backup source (default: drills.db.source, else the newest of any).")
        String source;

        @Option(names = "--dumps", description = "For a source with pitr too: restore its newest dump or snapshot instead of a point in time.")
        boolean dumps;

        @Option(names = "--physical", description = "For a MariaDB source: restore its newest physical backup (mariadb-backup), start a server on it and check it.")
        boolean physical;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = options.load();
            if (!config.drills().dbEnabled()) {
                throw new ConfigException(config.source(), "drills.db.identity", "missing; the database drill needs the age key file that decrypts the backups");
            }
            if (physical) {
                String s = source != null ? source : config.drills().source();
                if (s == null) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--physical needs --source S (or drills.db.source)");
                return withDrills(config, drills -> report(drills.database().runPhysical(s), json));
            }
            return withDrills(config, drills -> report(drills.database().run(source, dumps), json));
        }
    }

    @Command(name = "objects", mixinStandardHelpOptions = true,
            description = "Read a random sample of objects from every store that should hold them and compare SHA-256 with the ledger; bad copies are re-enqueued.")
    static final class Objects implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--sample", paramLabel = "N", description = "How many objects (default: drills.objects.sample, 100).")
        Integer sample;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = options.load();
            return withDrills(config, drills -> report(drills.objects().run(sample == null ? config.drills().sample() : sample), json));
        }
    }

    @Command(name = "failover", mixinStandardHelpOptions = true,
            description = "Serve a sample of reads with the primary store treated as down; report success rate and latency.")
    static final class Failover implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--sample", paramLabel = "N", defaultValue = "100", description = "How many objects (default ${DEFAULT-VALUE}).")
        int sample;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return withDrills(options.load(), drills -> report(drills.failover().run(sample), json));
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "Past drills, newest first.")
    static final class History implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--kind", paramLabel = "K", description = "db, db-physical, objects or failover (default: all).")
        String kind;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return withDrills(options.load(), drills -> {
                List<DrillRuns.Run> runs = drills.runs().history(kind, 50);
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(runs));
                } else {
                    for (DrillRuns.Run r : runs) {
                        System.out.printf("%s  %-8s %s%s%s%n", r.finishedAt(), r.kind(), r.ok() ? "passed" : "FAILED",
                                r.backupAgeSeconds() == null ? "" : String.format("  RPO %.1f h", r.backupAgeSeconds() / 3600),
                                r.restoreSeconds() == null ? "" : String.format("  RTO %.1f s", r.restoreSeconds()));
                    }
                    System.out.println(runs.size() + " drill(s)");
                }
                return 0;
            });
        }
    }
}
