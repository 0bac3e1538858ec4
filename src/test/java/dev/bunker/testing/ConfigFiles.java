package dev.bunker.testing;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes bunker.yaml files for child processes: a shared real database, local stores under one folder, short periods. */
public final class ConfigFiles {
    private ConfigFiles() {}

    public static Path write(Path dir, DatabaseConfig db, String extra) throws IOException {
        return write(dir, db, "21d", extra);
    }

    public static Path write(Path dir, DatabaseConfig db, String lockPeriod, String extra) throws IOException {
        String yaml = """
                database: {url: "%s", user: %s}
                stores:
                  primary: {type: local, path: %s}
                  vault:   {type: local, path: %s, lock: {period: %s}}
                  shelter: {type: local, path: %s, tier: cold}
                replication: {primary: primary, targets: [vault, shelter], workers: 2, lease: 3s, poll: 100ms, retry-initial: 100ms, retry-max: 1s}
                %s
                """.formatted(db.url(), db.user(), dir.resolve("primary"), dir.resolve("vault"), lockPeriod, dir.resolve("shelter"), extra);
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
