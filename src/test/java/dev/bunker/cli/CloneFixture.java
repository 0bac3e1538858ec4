package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;

/**
 * What the {@code db clone} command tests start from: an app database made by {@code sql}, read by a role that only reads,
 * a bunker.yaml whose source {@code app} is that database, and one backup of it taken with {@code bunker db backup}.
 */
record CloneFixture(DatabaseConfig app, Path config, String dataDir, Path key, String server) {
    static CloneFixture backedUp(Path dir, String... sql) throws Exception {
        DatabaseConfig app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            for (String statement : sql) s.execute(statement);
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        Path key = dir.resolve("age.txt");
        String recipient = AppDatabases.ageKey(key);
        Path config = ConfigFiles.write(dir, TestDatabase.fresh(), "backups: {recipients: [\"" + recipient + "\"], stores: [vault], sources: {app: {url: \""
                + app.url() + "\", user: " + role + "}}}\n");
        String dataDir = dir.resolve("data").toString();
        CliTest.Result backup = CliTest.run("db", "backup", "--config", config.toString(), "--data-dir", dataDir, "--source", "app");
        assertThat(backup.exit()).as(backup.err()).isZero();
        String server = "postgresql://postgres@" + app.url().substring("jdbc:postgresql://".length(), app.url().lastIndexOf('/') + 1);
        return new CloneFixture(app, config, dataDir, key, server);
    }

    /** {@code bunker db clone} of the newest backup into {@code target} on the app's server, scrubbed by {@code scrub}. */
    String[] cloneArgs(Path scrub, String target) {
        return new String[] {"db", "clone", "--config", config.toString(), "--data-dir", dataDir, "--source", "app", "--identity", key.toString(),
                "--scrub", scrub.toString(), "--target", server + target};
    }

    /** A connection as postgres to {@code database} on the app's server. */
    Connection connect(String database) throws Exception {
        return DriverManager.getConnection(app.url().substring(0, app.url().lastIndexOf('/') + 1) + database, "postgres", null);
    }
}
