package dev.bunker.cli;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.EffectiveConfig;
import dev.bunker.json.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker config check}: validate the configuration and print it as Bunker will use it. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Work with the configuration file.",
        subcommands = ConfigCommand.Check.class)
public final class ConfigCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate the configuration and print the effective config, secrets masked. Exit code 2 if invalid.")
    static final class Check implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--json", description = "Print JSON instead of YAML.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            BunkerConfig config = options.load();
            if (json) System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(EffectiveConfig.toTree(config)));
            else System.out.print(EffectiveConfig.toYaml(config));
            System.err.println("config OK (" + config.source() + ")");
            return 0;
        }
    }
}
