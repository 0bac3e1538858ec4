package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.export.ExportException;
import dev.bunker.export.ExportLedger;
import dev.bunker.export.Exports;
import dev.bunker.json.Json;
import dev.bunker.replication.Replication;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bunker export}: a prefix's objects back to their owner, once or by subscription (only what is new each time). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a prefix's live objects to a tar (or zip) archive with a manifest (key, size, SHA-256, created) and SHA256SUMS,",
                "optionally encrypted to the owner's age key. With --subscription, only what is new since its last delivery, and the",
                "keys deleted since are listed in the manifest. An interrupted run is resumed by the next one."},
        subcommands = {ExportCommand.Subscribe.class, ExportCommand.ListSubscriptions.class, ExportCommand.Show.class})
public final class ExportCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--prefix", description = "Export the live objects under this prefix (a one-off export), e.g. users/42/.")
    String prefix;

    @Option(names = "--subscription", description = "Deliver what is new for this subscription (see `bunker export subscribe`).")
    String subscription;

    @Option(names = "--to", description = "A folder (created if missing), or store:NAME/path to put the archive in a configured store.")
    String to;

    @Option(names = "--since", description = "One-off exports: only objects created from then on (2026-12-01, 2026-12-01T10:00:00Z), or `last`: since the last one-off export of this prefix.")
    String since;

    @Option(names = "--recipient", description = "Encrypt the archive to this age public key (age1...): only its owner can open it.")
    String recipient;

    @Option(names = "--format", description = "tar (default) or zip.")
    String format;

    @Option(names = "--restart", description = "Give up an interrupted delivery of this export and plan a new one.")
    boolean restart;

    @Option(names = "--json", description = "Print the delivery as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (prefix == null && subscription == null) throw new ExportException(ExportException.Reason.INVALID,
                "say what to export: --prefix PREFIX --to DIR, or --subscription NAME --to DIR (see bunker export --help)");
        if (subscription != null && since != null) throw new ExportException(ExportException.Reason.INVALID,
                "--since goes with one-off exports only: a subscription delivers what is new since its own last delivery");
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Replication replication = Engine.replication(bunker);
             Progress progress = new Progress()) {
            Exports exports = Engine.exports(bunker, replication);
            Instant from = "last".equals(since) ? exports.lastOneOff(prefix) : parseSince(since);
            Exports.Result r = exports.run(new Exports.Request(subscription, prefix, from, recipient, format, to, restart), line -> {
                if (line.startsWith("delivery ") && line.contains("/")) progress.accept(line);
                else System.err.println(line);
            });
            progress.close();
            ExportLedger.Delivery d = r.delivery();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(d));
            } else {
                System.out.printf("delivery %d: %d object(s), %.1f MB, %d deletion(s) listed%n", d.id(), d.objects(), d.bytes() / 1e6, d.deleted());
                System.out.printf("archive:  %s%nsha256:   %s%n", r.location(), d.archiveSha256());
                System.out.printf("this run wrote %d object(s), %.1f MB in %.1f s%s%n", r.objectsWritten(), r.bytesWritten() / 1e6, r.seconds(),
                        r.resumed() ? " (resumed an interrupted run)" : "");
            }
            return 0;
        }
    }

    static Instant parseSince(String since) {
        if (since == null) return null;
        try {
            return since.contains("T") ? Instant.parse(since) : LocalDate.parse(since).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            throw new ExportException(ExportException.Reason.INVALID, "--since '" + since + "' is not a date (2026-12-01), an instant (2026-12-01T10:00:00Z) or `last`");
        }
    }

    @Command(name = "subscribe", mixinStandardHelpOptions = true, description = "Create a subscription: each `bunker export --subscription NAME` delivers what is new.")
    static final class Subscribe implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--name", required = true, description = "Its name: lower-case letters, digits, '.', '_', '-'.")
        String name;

        @Option(names = "--prefix", required = true, description = "The prefix whose objects it delivers, e.g. users/42/.")
        String prefix;

        @Option(names = "--recipient", description = "Encrypt every delivery to this age public key.")
        String recipient;

        @Option(names = "--format", description = "tar (default) or zip.")
        String format;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Replication replication = Engine.replication(bunker)) {
                ExportLedger.Subscription s = Engine.exports(bunker, replication).subscribe(name, prefix, recipient, format, TrashCommand.actor());
                System.out.printf("subscription %s: %s, %s%s%n", s.name(), s.prefix(), s.format(), s.recipient() == null ? "" : ", encrypted to " + s.recipient());
                return 0;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The subscriptions.")
    static final class ListSubscriptions implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Replication replication = Engine.replication(bunker)) {
                Exports exports = Engine.exports(bunker, replication);
                for (ExportLedger.Subscription s : exports.ledger().subscriptions()) {
                    var last = exports.ledger().deliveries(s.name(), 1).stream().findFirst();
                    System.out.printf("%-20s %-30s %s  last delivery: %s%n", s.name(), s.prefix(), s.format(),
                            last.map(d -> d.id() + " " + d.state() + " " + (d.finishedAt() != null ? d.finishedAt() : d.startedAt())).orElse("none"));
                }
                return 0;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "A subscription's deliveries, newest first.")
    static final class Show implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Replication replication = Engine.replication(bunker)) {
                Exports exports = Engine.exports(bunker, replication);
                exports.subscription(name);
                var deliveries = exports.ledger().deliveries(name, 100);
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(deliveries));
                    return 0;
                }
                for (ExportLedger.Delivery d : deliveries) {
                    System.out.printf("%6d %-9s %s  %d object(s), %.1f MB, %d deletion(s)  %s/%s%s%n", d.id(), d.state(), d.startedAt(), d.objects(),
                            d.bytes() / 1e6, d.deleted(), d.destination(), d.fileName(), d.error() == null ? "" : "  last error: " + d.error());
                }
                return 0;
            }
        }
    }
}
