package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.drill.RecoveryReport;
import dev.bunker.json.Json;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker dr}: recovery point and time per disaster scenario, from what the system has actually done. */
@Command(name = "dr", mixinStandardHelpOptions = true,
        description = "Show, per disaster scenario, what would be lost (RPO) and how long recovery takes (RTO), computed from the ledger, the backups taken and the drills passed.")
public final class DrCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
            List<RecoveryReport.Scenario> scenarios = engine.recovery();
            if (json) {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(java.util.Map.of("scenarios", scenarios)));
                return 0;
            }
            for (RecoveryReport.Scenario s : scenarios) {
                System.out.println(s.name());
                System.out.println("  data loss (RPO): " + s.rpo());
                System.out.println("  recovery (RTO):  " + s.rto());
                System.out.println("  from:            " + s.evidence());
            }
            return 0;
        }
    }
}
