package dev.bunker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a backup source may say beyond its url: its own pitr retention, and a MariaDB source of every database. */
@Timeout(30)
class BackupSourceConfigTest {
    @TempDir Path dir;

    /** The documented config ({@link ConfigLoaderTest#FULL}) and {@code more}. */
    BunkerConfig load(String more) throws IOException {
        return ConfigLoaderTest.load(dir, ConfigLoaderTest.FULL + more);
    }

    ConfigException fails(String more) {
        return ConfigLoaderTest.fails(dir, ConfigLoaderTest.FULL + more);
    }

    @Test
    void aSourcesPitrKeepAndLockOverrideBackupsBaseForItAlone() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {app: {url: \"postgresql://backup@127.0.0.1:5432/app\"PITR}, other: {url: \"postgresql://backup@127.0.0.1:5432/other\", "
                + "pitr: {}}}BASE}\n";
        // the issue's own example
        BunkerConfig.BackupsConfig b = load(backups.replace("PITR", ", pitr: {wal: stream, base-every: 1d, keep: 14d, lock: 14d}")
                .replace("BASE", ", base: {keep: 30d, lock: 20d}")).backups();
        assertThat(b.kind("app", "base")).isEqualTo(new BunkerConfig.BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3));
        assertThat(b.kind("other", "base")).isEqualTo(b.base()).extracting(BunkerConfig.BackupKind::keep).isEqualTo(Duration.ofDays(30));
        assertThat(b.kind("app", "dump")).isEqualTo(b.dump());
        // one of the two set: the other comes from backups.base; lock: 0 is no lock
        b = load(backups.replace("PITR", ", pitr: {wal: archive, keep: 40d}").replace("BASE", ", base: {keep: 30d, lock: 20d}")).backups();
        assertThat(b.kind("app", "base").keep()).isEqualTo(Duration.ofDays(40));
        assertThat(b.kind("app", "base").lock()).isEqualTo(Duration.ofDays(20));
        assertThat(load(backups.replace("PITR", ", pitr: {lock: 0s}").replace("BASE", "")).backups().kind("app", "base").lock()).isNull();
        // keep shorter than the lock, set here or inherited, is refused where it is set
        assertThat(fails(backups.replace("PITR", ", pitr: {keep: 2d, lock: 3d}").replace("BASE", "")).getMessage())
                .contains("backups.sources.app.pitr.keep").contains("shorter than the lock (3d)");
        assertThat(fails(backups.replace("PITR", ", pitr: {keep: 10d}").replace("BASE", ", base: {keep: 30d, lock: 20d}")).getMessage())
                .contains("pitr.keep").contains("lock (20d, from backups.base)");
        assertThat(fails(backups.replace("PITR", ", pitr: {lock: 40d}").replace("BASE", ", base: {keep: 30d, lock: 20d}")).getMessage())
                .contains("pitr.lock").contains("keep (30d, from backups.base)");
        // the effective config shows what each source gets
        String yaml = EffectiveConfig.toYaml(load(backups.replace("PITR", ", pitr: {keep: 14d, lock: 7d}").replace("BASE", "")));
        assertThat(yaml).contains("keep: 14d").contains("lock: 7d").contains("base:");
    }

    @Test
    void aMariaDbSourceOfEveryDatabaseNamesNone() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {all: {url: \"URL\", password: pw, EXTRA}}}\n";
        BunkerConfig.BackupSource all = load(backups.replace("URL", "mariadb://bk@db:3306")
                .replace("EXTRA", "all-databases: true")).backups().sources().get("all");
        assertThat(all.allDatabases()).isTrue();
        assertThat(all.mariaDbUrl().database()).isNull();
        assertThat(all.mariaDbUrl().port()).isEqualTo(3306);
        assertThat(fails(backups.replace("URL", "mariadb://bk@db:3306/shop").replace("EXTRA", "all-databases: true"))
                .getMessage()).contains("backups.sources.all.url").contains("names the database shop").contains("leave the database out");
        assertThat(fails(backups.replace("URL", "mariadb://bk@db:3306").replace("EXTRA", "binlog: {}"))
                .getMessage()).contains("names no database").contains("all-databases: true");
        assertThat(load(backups.replace("URL", "mariadb://bk@db:3306").replace("EXTRA", "all-databases: true, binlog: {}")).backups().sources()
                .get("all").binlog()).as("its binary log streamed too").isNotNull();
        assertThat(fails(backups.replace("URL", "postgresql://bk@db/app").replace("EXTRA",
                "all-databases: true")).getMessage()).contains("sources.all.all-databases").contains("applies to MariaDB");
        assertThat(EffectiveConfig.toYaml(load(backups.replace("URL", "mariadb://bk@db:3306")
                .replace("EXTRA", "all-databases: true")))).contains("all-databases: true");
    }
}
