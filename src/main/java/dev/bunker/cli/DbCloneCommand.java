package dev.bunker.cli;

import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.config.BunkerConfig;
import dev.bunker.json.Json;
import dev.bunker.scrub.CloneDatabase;
import dev.bunker.scrub.ScrubPlan;
import dev.bunker.scrub.ScrubRules;
import dev.bunker.scrub.Scrubber;
import dev.bunker.store.Store;
import dev.bunker.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker db clone}: a scrubbed copy of a backup for developers. */
@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Restore a backup (never the live database) into a new database on --target's server, rewrite the columns the scrub file",
                "names before anyone can connect, check that no original value is left in them, then build its indexes and constraints",
                "(foreign keys prove joins still match) and open it under --target's name. Columns that look personal and are neither",
                "scrubbed nor marked keep make it fail with the list; --check shows the coverage without cloning."})
final class DbCloneCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--source", paramLabel = "S", description = "The source whose backup to clone (with latest).")
    String source;

    @Option(names = "--backup", paramLabel = "ID|latest", defaultValue = "latest", description = "The backup id (see `db list`), or latest (default).")
    String backup;

    @Option(names = "--target", required = true, paramLabel = "URL",
            description = "The database to create, e.g. postgresql://dev@127.0.0.1:5432/app_dev (the user needs CREATEDB; password from PGPASSWORD).")
    String target;

    @Option(names = "--scrub", required = true, paramLabel = "FILE", description = "The scrub file: columns: {schema.table.column: rule}.")
    Path scrub;

    @Option(names = "--identity", required = true, paramLabel = "FILE", description = "The age key file the backup was encrypted to.")
    Path identity;

    @Option(names = "--replace", description = "Replace the target database if it exists (its sessions are ended), once the new clone is ready.")
    boolean replace;

    @Option(names = "--check", description = "Report which columns are scrubbed, kept, and personal-looking but uncovered; clone nothing.")
    boolean check;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BunkerConfig config = DbCommand.requireBackups(options);
        ScrubRules rules = ScrubRules.load(scrub);
        List<String> identities = AgeCrypto.readIdentities(identity);
        Map<String, Store> stores = Stores.openAll(config.stores(), Clock.systemUTC());
        try (Progress progress = new Progress()) {
            RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
            CloneDatabase.Result r = new CloneDatabase(restore, config.dataDir(), config.backups().pgBin(), Clock.systemUTC())
                    .run(backup, source, target, rules, identities, replace, check, line -> {
                        if (line.startsWith("downloaded") || line.matches("^\\d.*")) progress.accept(line);
                        else System.err.println(line);
                    });
            progress.close();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return check && !r.plan().uncovered().isEmpty() ? 1 : 0;
            }
            ScrubPlan plan = r.plan();
            if (check) {
                plan.rules().forEach((c, rule) -> System.out.printf("  %-50s %s%n", c, rule));
                System.out.printf("scrubbed or kept: %d column(s); kept as they are: %s%n", plan.rules().size(), plan.kept());
                if (plan.uncovered().isEmpty()) {
                    System.out.println("every column that looks personal is covered");
                    return 0;
                }
                System.out.println("NOT covered (look personal, no rule): " + plan.uncovered());
                return 1;
            }
            for (Scrubber.Done d : r.columns()) {
                System.out.printf("  %-50s %-22s %d rows, %d sampled, %d original values left%n", d.column(), d.rule(), d.rowsChanged(), d.sampled(), d.survivors());
            }
            System.out.printf("cloned %s into %s: download %.1f s, load %.1f s, scrub %.1f s, indexes and constraints %.1f s%n", r.backupId(),
                    dev.bunker.config.Redact.databaseUrl(target), r.downloadSeconds(), r.loadSeconds(), r.scrubSeconds(), r.indexSeconds());
            return 0;
        } finally {
            stores.values().forEach(Store::close);
        }
    }
}
