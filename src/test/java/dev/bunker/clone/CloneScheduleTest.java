package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.Backups;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.CloneJob;
import dev.bunker.config.BunkerConfig.ClonesConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A clone {@code serve} keeps fresh: made when due from the newest backup, not again from the same one, replaced by the next. */
@Timeout(180)
class CloneScheduleTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    DatabaseConfig app;
    Bunker bunker;
    Backups backups;
    String target;
    String base; // jdbc:postgresql://HOST:PORT/

    @BeforeEach
    void setUp() throws Exception {
        app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table people (id bigint primary key, email text not null, nickname text)");
            s.execute("insert into people select g, 'p' || g || '@corp.example.org', 'nick' || g from generate_series(1, 100) g");
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        Path key = dir.resolve("age.txt");
        String recipient = AppDatabases.ageKey(key);
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false, List.of(), BackupsConfig.KEEP_NEWEST);
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b);
        bunker = Bunker.open(config, clock);
        backups = Engine.backups(bunker);
        base = app.url().substring(0, app.url().lastIndexOf('/') + 1);
        target = "sched_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        loader = target + "_loader";
        developer = target + "_dev";
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", null); Statement s = c.createStatement()) {
            s.execute("create role " + loader + " login createdb"); // owns the clones; no person logs in as it
            s.execute("create role " + developer + " login");
        }
    }

    String loader;
    String developer;

    @AfterEach
    void tearDown() throws Exception {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", null); Statement s = c.createStatement()) {
            s.execute("drop database if exists " + target + " with (force)");
            s.execute("drop role if exists " + developer);
            s.execute("drop role if exists " + loader);
        }
    }

    CloneSchedule schedule(String scrubYaml) throws Exception {
        Path scrub = dir.resolve("scrub.yaml");
        Files.writeString(scrub, scrubYaml);
        String url = "postgresql://" + loader + "@" + base.substring("jdbc:postgresql://".length()) + target;
        CloneJob job = new CloneJob("dev", "app", url, null, scrub, dir.resolve("age.txt"), Duration.ofDays(1), List.of(developer));
        return new CloneSchedule(new ClonesConfig(Map.of("dev", job)), backups.restore(), null, bunker.database().dataSource(), clock);
    }

    /** As the developer sees it: through the grants the clone made. */
    List<String> emails() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(base + target, developer, null); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select email from people order by id")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    List<String> runs() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = bunker.database().connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select state from clone_runs where name = 'dev' order by id")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    @Test
    void aDueCloneIsMadeFromTheNewestBackupAndNotAgainFromTheSameOne() throws Exception {
        backups.take().run("app", "dump");
        String left = target + "_bunker_clone_0badc0de"; // a serve killed mid-clone left its private, unscrubbed database
        try (Connection c = DriverManager.getConnection(base + "postgres", loader, null); Statement s = c.createStatement()) {
            s.execute("create database " + left); // as the clone made it: its owner is the target's user
        }
        CloneSchedule schedule = schedule("public.people.email: hash\npublic.people.nickname: fake-name\n");
        assertThat(schedule.runDue()).isEqualTo(1);
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", null); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from pg_database where datname = '" + left + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("dropped by the schedule's first check").isZero();
        }
        List<String> first = emails();
        assertThat(first).hasSize(100).noneMatch(e -> e.contains("@corp.example.org"));
        assertThat(schedule.runDue()).as("not due again within the day").isZero();

        clock.advance(Duration.ofDays(1));
        assertThat(schedule.runDue()).as("due, but the newest backup is the one cloned").isZero();
        assertThat(runs()).containsExactly("done", "skipped");

        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("insert into people values (101, 'new@corp.example.org', 'newbie')");
        }
        backups.take().run("app", "dump");
        clock.advance(Duration.ofDays(1));
        assertThat(schedule.runDue()).isEqualTo(1);
        assertThat(emails()).hasSize(101).noneMatch(e -> e.contains("@corp.example.org"));
        assertThat(runs()).containsExactly("done", "skipped", "done");
    }

    @Test
    void aScrubFileThatNoLongerCoversTheBackupFailsTheRunAndLeavesTheCloneAsItWas() throws Exception {
        backups.take().run("app", "dump");
        CloneSchedule good = schedule("public.people.email: hash\npublic.people.nickname: keep\n");
        assertThat(good.runDue()).isEqualTo(1);
        List<String> before = emails();
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("alter table people add column phone text"); // a new personal-looking column, not in the scrub file
            s.execute("update people set phone = '+1 555 0100'");
        }
        clock.advance(Duration.ofDays(1));
        backups.take().run("app", "dump");
        CloneSchedule later = schedule("public.people.email: hash\npublic.people.nickname: keep\n");
        assertThat(later.runDue()).as("due, and refused").isZero();
        assertThat(emails()).isEqualTo(before);
        assertThat(runs()).containsExactly("done", "failed");
        try (Connection c = bunker.database().connection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select error from clone_runs where state = 'failed'")) {
            rs.next();
            assertThat(rs.getString(1)).contains("public.people.phone");
        }
    }

    @Test
    void theDevelopersRoleCannotConnectToThePrivateDatabaseWhileItHoldsUnscrubbedRows() throws Exception {
        dev.bunker.backup.Conninfo admin = dev.bunker.backup.Conninfo.parse(
                "postgresql://" + loader + "@" + base.substring("jdbc:postgresql://".length()) + "postgres", null, null);
        try (PrivateDatabase db = PrivateDatabase.claim(admin, target, 15, new java.security.SecureRandom(), line -> { })) {
            db.create();
            try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", null); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select has_database_privilege('" + developer + "', '" + db.name() + "', 'CONNECT'), "
                         + "has_database_privilege('" + loader + "', '" + db.name() + "', 'CONNECT')")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("the developer").isFalse();
                assertThat(rs.getBoolean(2)).as("its owner, the loader").isTrue();
            }
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> DriverManager.getConnection(base + db.name(), developer, null).close()))
                    .hasMessageContaining("permission denied");
        }
    }
}
