package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.Bunker;
import dev.bunker.lifecycle.DeletionReview;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.PurgeExpired;
import dev.bunker.json.Json;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker purge}: run the cleanup job now (the only thing that deletes objects from stores), or review and confirm past the brake. */
@Command(name = "purge", mixinStandardHelpOptions = true,
        description = "Run the deletion lifecycle now: end trash periods, release holds, purge permanently deleted objects whose "
                + "retention window has passed. Exit code 3 if the mass-deletion brake stopped it: review with --dry-run, then "
                + "--confirm with the code the review printed.")
public final class PurgeCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--dry-run", description = "Show what would be deleted, released and purged, and the code to confirm it with; change nothing.")
    boolean dryRun;

    @Option(names = "--confirm", paramLabel = "CODE",
            description = "Proceed past the brake for exactly the set a --dry-run showed under this code (refused if it changed since).")
    String confirm;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
            if (dryRun) return review(lifecycle);
            String actor = TrashCommand.actor();
            Optional<PurgeExpired.Report> report = confirm != null ? lifecycle.runConfirmed(confirm, actor) : lifecycle.runNow(actor);
            if (report.isEmpty()) {
                System.err.println("bunker: another process is running the deletion lifecycle right now; retry in a minute");
                return 1;
            }
            PurgeExpired.Report r = report.get();
            String braked = lifecycle.brake().trippedReason();
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("purge", r);
                out.put("brake", braked);
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            } else {
                System.out.println(r.purged() + " object(s) purged, " + r.failed().size() + " to retry later");
                r.failed().forEach((k, why) -> System.out.println("  not yet: " + k + ": " + why));
                if (braked != null) {
                    System.out.println("STOPPED by the mass-deletion brake: " + braked);
                    System.out.println("review what is due with `bunker purge --dry-run`, then confirm it with `bunker purge --confirm CODE`");
                }
            }
            return braked != null ? 3 : 0;
        }
    }

    private int review(Lifecycle lifecycle) throws Exception {
        DeletionReview r = lifecycle.review();
        String braked = lifecycle.brake().trippedReason();
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("review", r);
            out.put("brake", braked);
            System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            return 0;
        }
        System.out.println("dry run, nothing changed: " + r.summary());
        print("trash period ended, to be deleted permanently", r.expiring());
        print("permanently deleted, legal holds to be released", r.releasing());
        print("due for purge from every store", r.purging());
        System.out.println("mass-deletion brake: " + (braked == null ? "ok" : "TRIPPED: " + braked));
        System.out.println("to proceed with exactly this set, even past the brake: bunker purge --confirm " + r.code());
        return 0;
    }

    private static void print(String title, List<String> keys) {
        System.out.println(title + ": " + keys.size());
        keys.stream().limit(50).forEach(k -> System.out.println("  " + k));
        if (keys.size() > 50) System.out.println("  ... and " + (keys.size() - 50) + " more (--json lists all)");
    }
}
