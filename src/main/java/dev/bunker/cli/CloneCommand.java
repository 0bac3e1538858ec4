package dev.bunker.cli;

import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.clone.CloneDatabase;
import dev.bunker.clone.ScrubDatabase.ColumnResult;
import dev.bunker.clone.ScrubFile;
import dev.bunker.clone.ScrubPlan;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.Redact;
import dev.bunker.json.Json;
import dev.bunker.store.Store;
import dev.bunker.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker db clone}: a scrubbed development copy of a PostgreSQL source, made from its backup (never the live database). */
@Command(name = "clone", mixinStandardHelpOptions = true,
        description = "Restore a backup into a new database with the columns a scrub file names rewritten (fake, hashed, nulled...) and "
                + "verified before anyone can connect; refuses while a personal-looking column is neither scrubbed nor kept. PostgreSQL only.")
final class CloneCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--source", paramLabel = "S", description = "With latest: the newest backup of this source.")
    String source;

    @Option(names = "--backup", paramLabel = "ID|latest", defaultValue = "latest", description = "The backup to clone (default: ${DEFAULT-VALUE}).")
    String backup;

    @Option(names = "--target", paramLabel = "URL", required = true,
            description = "The clone's database, e.g. postgresql://dev@127.0.0.1:5432/app_dev (password from PGPASSWORD); its user needs CREATEDB.")
    String target;

    @Option(names = "--scrub", paramLabel = "FILE", required = true, description = "The scrub file: schema.table.column: RULE per line.")
    Path scrub;

    @Option(names = "--identity", required = true, paramLabel = "FILE", description = "The age key file the backup was encrypted to.")
    Path identity;

    @Option(names = "--check", description = "Report what the scrub file covers in this backup; create nothing. Exit code 2 if a personal-looking column is uncovered.")
    boolean check;

    @Option(names = "--replace", description = "Replace the target database if it exists (its sessions are ended; only once the clone is complete).")
    boolean replace;

    @Option(names = "--grant-to", paramLabel = "ROLE", description = "Grant this role the use of the scrubbed clone (repeatable): the target's "
            + "user, which owns the clone and may connect to it while it is made, can then be one no person logs in as.")
    List<String> grantTo = new java.util.ArrayList<>();

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try {
            dev.bunker.config.PostgresUrls.parse(target); // before anything is downloaded
        } catch (IllegalArgumentException bad) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--target: " + bad.getMessage());
        }
        BunkerConfig config = DbCommand.requireBackups(options);
        ScrubFile file = ScrubFile.read(scrub);
        List<String> identities = AgeCrypto.readIdentities(identity);
        Map<String, Store> stores = Stores.openAll(config.stores(), Clock.systemUTC());
        try (Progress progress = new Progress()) {
            RestoreBackup restore = new RestoreBackup(config.backups(), stores, null, config.dataDir());
            Manifest m = restore.find(backup, source);
            CloneDatabase.Result r = new CloneDatabase(restore, config.backups().pgBin(), Clock.systemUTC()).grantingTo(grantTo)
                    .run(m, target, file, identities, replace, check, progress, line -> {
                        progress.close();
                        if (!json) System.err.println(line);
                    });
            progress.close();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("backup", m.id(),
                        "target", Redact.databaseUrl(target), "coverage", r.plan().coverage(), "columns", r.columns(), "seconds", r.seconds())));
            } else if (check) {
                printCoverage(r.plan().coverage());
            } else {
                printSummary(r);
            }
            return check && !r.plan().coverage().complete() ? BunkerCommand.EXIT_USAGE : 0;
        } finally {
            stores.values().forEach(Store::close);
        }
    }

    private static void printCoverage(ScrubPlan.Coverage c) {
        System.out.println("scrubbed (" + c.scrubbed().size() + "): " + c.scrubbed());
        System.out.println("kept (" + c.kept().size() + "): " + c.kept());
        System.out.println("personal-looking and not covered (" + c.uncovered().size() + "): " + c.uncovered());
        System.out.println("other columns: " + c.other());
        System.out.println(c.complete() ? "covered: every personal-looking column is scrubbed or kept"
                : "NOT covered: give each column above a rule, or keep");
    }

    private static void printSummary(CloneDatabase.Result r) {
        Map<String, Integer> perRule = new TreeMap<>();
        long rows = 0;
        for (ColumnResult c : r.columns()) {
            perRule.merge(c.rule(), 1, Integer::sum);
            rows += c.rowsChanged();
            System.out.printf("  %-50s %-10s %10d rows, %6d sampled, %d survivors%s%n", c.column(), c.rule(), c.rowsChanged(), c.rowsSampled(),
                    c.survivors(), c.propagatedFrom() == null ? "" : " (foreign key to " + c.propagatedFrom() + ")");
        }
        System.out.printf("cloned %s (from store '%s') into %s%s: %d column(s) scrubbed %s, %d values rewritten; %s%n", r.manifest().id(), r.store(),
                r.target(), r.replaced() ? " (replaced)" : "", r.columns().size(), perRule, rows, r.timings());
        System.out.println("recorded in bunker_scrub.columns in the clone");
    }
}
