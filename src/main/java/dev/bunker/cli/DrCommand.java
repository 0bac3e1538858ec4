package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.json.Json;
import dev.bunker.recovery.RecoveryAudits;
import dev.bunker.recovery.RecoveryReport;
import dev.bunker.recovery.Runbook;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker dr}: recovery point and time per disaster scenario, from what the system has actually done; its runbook and audits. */
@Command(name = "dr", mixinStandardHelpOptions = true,
        description = "Show, per disaster scenario, what would be lost (RPO) and how long recovery takes (RTO), computed from the ledger, the backups "
                + "taken and the drills passed.",
        subcommands = {DrCommand.RunbookCommand.class, DrCommand.Audit.class})
public final class DrCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
            List<RecoveryReport.Scenario> scenarios = engine.recovery();
            List<RecoveryAudits.Audit> audits = engine.audits().recent(1);
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("scenarios", scenarios)));
                return 0;
            }
            for (RecoveryReport.Scenario s : scenarios) {
                System.out.println(s.name());
                System.out.println("  impact:          " + s.impact());
                System.out.println("  data loss (RPO): " + s.rpo());
                System.out.println("  recovery (RTO):  " + s.rto());
                System.out.println("  last proven:     " + (s.lastProven() == null ? "never" : s.lastProven()));
                System.out.println("  from:            " + s.evidence());
            }
            System.out.println(audits.isEmpty() ? "recovery audit: never recorded (`bunker dr audit --by NAME` after going through `bunker dr runbook`)"
                    : "recovery audit: last " + audits.get(0).at() + " by " + audits.get(0).by() + (audits.get(0).note().isEmpty() ? "" : ": " + audits.get(0).note()));
            return 0;
        }
    }

    @Command(name = "runbook", mixinStandardHelpOptions = true,
            description = "Print the recovery runbook written from this config: per scenario, the exact commands, what each needs, and when it was last proven.")
    static final class RunbookCommand implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--format", paramLabel = "F", defaultValue = "md", description = "md, html or json (default ${DEFAULT-VALUE}).")
        String format;

        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!List.of("md", "html", "json").contains(format)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--format " + format + " is not md, html or json");
            }
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
                Runbook.Book book = Runbook.write(bunker.config(), engine.recovery(), bunker.clock().instant());
                System.out.print(switch (format) {
                    case "html" -> Runbook.html(book);
                    case "json" -> Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(book) + "\n";
                    default -> Runbook.markdown(book);
                });
                return 0;
            }
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = "Record that a person went through the runbook (the monthly recovery audit); the dashboard and `bunker dr` show it.")
    static final class Audit implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--by", required = true, paramLabel = "NAME", description = "Who went through it.")
        String by;

        @Option(names = "--note", paramLabel = "TEXT", defaultValue = "", description = "What was checked or found.")
        String note;

        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC())) {
                RecoveryAudits.Audit a;
                try {
                    a = new RecoveryAudits(bunker.database().dataSource()).record(bunker.clock().instant(), by, note, null);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
                System.out.println("recovery audit recorded: " + a.at() + " by " + a.by());
                return 0;
            }
        }
    }
}
