package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.PurgeExpired;
import dev.bunker.web.Json;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker purge}: run the cleanup job now (the only thing that deletes objects from stores). */
@Command(name = "purge", mixinStandardHelpOptions = true,
        description = "Release pending holds and purge permanently deleted objects whose retention window has passed. "
                + "Exit code 3 if the mass-deletion brake stops the run.")
public final class PurgeCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--dry-run", description = "Show what would be purged; change nothing.")
    boolean dryRun;

    @Option(names = "--confirm", description = "Proceed although the mass-deletion brake trips (or has tripped).")
    boolean confirm;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = new Lifecycle(bunker)) {
            if (!dryRun) {
                lifecycle.trash().expire();
                lifecycle.releaseHolds().run(100_000);
            }
            PurgeExpired.Report r = lifecycle.purge().run(dryRun, confirm, TrashCommand.actor());
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
            } else {
                System.out.printf("%d object(s) (%d bytes) due for purge%s%n", r.due(), r.dueBytes(), dryRun ? " (dry run: nothing changed)" : "");
                if (dryRun) r.keys().stream().limit(50).forEach(k -> System.out.println("  " + k));
                if (r.brakeTripped()) System.out.println("STOPPED by the mass-deletion brake: " + r.brakeReason() + "; rerun with --confirm to proceed");
                if (!dryRun && !r.brakeTripped()) System.out.println(r.purged() + " purged, " + r.failed().size() + " to retry later");
                r.failed().forEach((k, why) -> System.out.println("  not yet: " + k + ": " + why));
            }
            return r.brakeTripped() ? 3 : 0;
        }
    }
}
