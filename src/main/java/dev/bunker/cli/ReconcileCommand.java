package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.Bunker;
import dev.bunker.replication.Reconcile;
import dev.bunker.replication.Replication;
import dev.bunker.json.Json;
import dev.bunker.store.FullListing;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker reconcile}: compare the stores with the ledger and enqueue whatever is missing. */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = "List the primary and every target store (or read their S3 Inventory reports), record objects the ledger lacks, re-enqueue copies a store "
                + "no longer holds and objects short of their policy. The running serve processes do the copying.")
public final class ReconcileCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print a JSON summary.")
    boolean json;

    @Option(names = "--live-listing", description = "List every store itself, even one whose S3 Inventory reports are configured "
            + "(inventory: in its store section); use when the newest report is missing or too old.")
    boolean liveListing;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC());
             Replication replication = Engine.replication(bunker);
             Progress progress = new Progress()) {
            Reconcile.Summary s = replication.reconcile().run(progress, liveListing);
            progress.close();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
            } else {
                System.out.println("listed:          " + s.listed());
                s.listedFrom().forEach((store, from) -> {
                    if (!from.equals(FullListing.LIVE)) System.out.println("  " + store + " from the " + from);
                });
                System.out.println("new objects:     " + s.newObjects() + " (recorded and enqueued)");
                System.out.println("missing copies:  " + s.missingCopies() + " (marked missing and re-enqueued)");
                System.out.println("short of policy: " + s.shortOfPolicy() + " (enqueued)");
                System.out.println("jobs enqueued:   " + s.enqueued());
            }
            return 0;
        }
    }
}
