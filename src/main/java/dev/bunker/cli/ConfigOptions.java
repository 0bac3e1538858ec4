package dev.bunker.cli;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command shares: which config file, and where the data lives. */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file (default: ./bunker.yaml if present, else the built-in embedded defaults).")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data folder; wins over data-dir in the file (default ./bunker-data).")
    Path dataDir;

    BunkerConfig load(String listen) {
        return ConfigLoader.load(ConfigLoader.locate(config), new ConfigLoader.Overrides(dataDir, listen));
    }

    BunkerConfig load() {
        return load(null);
    }
}
