package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.Bunker;
import dev.bunker.replication.Reconcile;
import dev.bunker.replication.Replication;
import dev.bunker.json.Json;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker reconcile}: compare the stores with the ledger and enqueue whatever is missing. */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = "List the primary and every target store, record objects the ledger lacks, re-enqueue copies a store "
                + "no longer holds and objects short of their policy. The running serve processes do the copying.")
public final class ReconcileCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print a JSON summary.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC());
             Replication replication = Engine.replication(bunker);
             Progress progress = new Progress()) {
            Reconcile.Summary s = replication.reconcile().run(progress);
            progress.close();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
            } else {
                System.out.println("listed:          " + s.listed());
                System.out.println("new objects:     " + s.newObjects() + " (recorded and enqueued)");
                System.out.println("missing copies:  " + s.missingCopies() + " (marked missing and re-enqueued)");
                System.out.println("short of policy: " + s.shortOfPolicy() + " (enqueued)");
                System.out.println("jobs enqueued:   " + s.enqueued());
            }
            return 0;
        }
    }
}
