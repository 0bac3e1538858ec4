package dev.bunker.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runbook's commands for configs of every shape: any file name, the built-in defaults, URLs with options, MariaDB sources, no secrets. */
class RunbookCommandsTest {
    @TempDir Path dir;

    static final List<RecoveryReport.Scenario> SCENARIOS = List.of(
            new RecoveryReport.Scenario("primary-store", "primary store 'primary' unavailable", "reads fail over", "0 objects", "about 0", null, "ledger"),
            new RecoveryReport.Scenario("database", "database lost", "down", "since", "12 s", Instant.parse("2026-12-01T00:00:00Z"), "drills"));

    List<String> commands(BunkerConfig c, String scenario) {
        return Runbook.write(c, SCENARIOS, Instant.now()).scenarios().stream().filter(s -> s.id().equals(scenario)).findFirst().orElseThrow()
                .steps().stream().map(Runbook.Step::command).filter(x -> x != null).toList();
    }

    @Test
    void everyCommandNamesThisConfigAndNoSecret() throws Exception {
        Path file = dir.resolve("my config.conf"); // not .yaml, and a space: still this file, quoted
        Files.writeString(file, """
                data-dir: %s
                backups:
                  recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq]
                  stores: [vault]
                  sources:
                    app: {url: "jdbc:postgresql://db.internal:6432/app_prod?sslmode=require&password=hunter2", user: backup}
                    shop: {url: "mysql://backup:s3cret@shop-db:3307/shop", binlog: {stream: true}}
                """.formatted(dir.resolve("data")));
        BunkerConfig c = ConfigLoader.load(file, ConfigLoader.Overrides.NONE, Map.<String, String>of()::get);
        String opts = "--config '" + file.toAbsolutePath() + "' --data-dir " + dir.resolve("data").toAbsolutePath();
        assertThat(commands(c, "primary-store")).contains("bin/bunker reconcile " + opts);
        List<String> db = commands(c, "database");
        assertThat(db).contains("createdb -h db.internal -p 6432 app_prod");
        assertThat(db).anySatisfy(x -> assertThat(x).isEqualTo("bin/bunker db restore " + opts + " --source app --backup latest --identity backup-key.txt"
                + " --target \"postgresql://$PGUSER@db.internal:6432/app_prod?sslmode=require\""));
        assertThat(db).anySatisfy(x -> assertThat(x).isEqualTo("bin/bunker db restore " + opts + " --source shop --to-time latest --identity backup-key.txt"
                + " --target \"mariadb://$MYSQL_USER@shop-db:3307/shop\""));
        assertThat(db).noneMatch(x -> x.contains("drill")); // no drills.db: no drill step
        String all = Runbook.markdown(Runbook.write(c, SCENARIOS, Instant.now())) + Runbook.html(Runbook.write(c, SCENARIOS, Instant.now()));
        assertThat(all).doesNotContain("hunter2").doesNotContain("s3cret");
        assertThat(Runbook.html(Runbook.write(c, SCENARIOS, Instant.now()))).doesNotContain("<script").contains("&#39;" + file.toAbsolutePath());
    }

    @Test
    void theBuiltInDefaultsAreNamedByTheirDataFolder() {
        BunkerConfig c = ConfigLoader.load(null, new ConfigLoader.Overrides(dir.resolve("d"), null), Map.<String, String>of()::get);
        assertThat(commands(c, "primary-store")).contains("bin/bunker reconcile --data-dir " + dir.resolve("d").toAbsolutePath());
        assertThat(Runbook.write(c, SCENARIOS, Instant.now()).scenarios().get(1).steps()).singleElement()
                .satisfies(s -> assertThat(s.text()).contains("No database is backed up"));
    }
}
