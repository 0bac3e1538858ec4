package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.ApiConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.Pitr;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.HostPort;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Store;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.RawHttp;
import dev.bunker.testing.TestConfigs;
import dev.bunker.web.HttpApi;
import dev.bunker.web.Tokens;
import dev.bunker.web.WalRoutes;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code wal: archive}: a real PostgreSQL server whose archive_command is {@code bin/bunker wal push}, pushing finished
 * segments over HTTP to Bunker's API, which stores them in locked, encrypted local stores; a DELETE undone by restoring
 * through them; serve down and a store failing while the server archives; and what callers without the right token or
 * with bytes that are not the segment they name can do (nothing).
 */
@Timeout(300)
class WalArchiveModeTest {
    @TempDir Path dir;
    final Map<String, FaultyStore> faulty = new HashMap<>();
    final String pushToken = Tokens.newToken();
    final String otherPushToken = Tokens.newToken();
    final String adminToken = Tokens.newToken();
    EmbeddedPostgres source;
    Path key;
    Path tokenFile;
    Bunker bunker;
    Backups backups;
    WalPush push;
    Tokens tokens;
    HttpApi api;

    @BeforeEach
    void setUp() throws Exception {
        source = EmbeddedPostgres.builder().setServerConfig("archive_mode", "on").setServerConfig("archive_timeout", "60").start();
        PointInTimeRestoreTest.createEvents(source);
        key = dir.resolve("key.txt");
        String recipient = AppDatabases.ageKey(key);
        String url = "jdbc:postgresql://127.0.0.1:" + source.getPort() + "/postgres";
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                Map.of("app", new BackupSource("app", url, "streamer", null, Pitr.archived(Duration.ofDays(1))),
                        "dumps", new BackupSource("dumps", url, "streamer", null)),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false, List.of(), BackupsConfig.KEEP_NEWEST,
                new BackupKind("base", Duration.ofDays(1), Duration.ofDays(14), Duration.ofDays(14), 3));
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(new BunkerConfig.DrillsConfig(
                Duration.ofDays(1), key, "app", "public.events.at", Duration.ofMinutes(10), List.of("(select count(*) from events) > 0"),
                Duration.ofDays(1), 100), BunkerConfig.AlertsConfig.DEFAULTS);
        bunker = Bunker.open(config, Clock.systemUTC(), FaultyStore.into(faulty));
        backups = Engine.backups(bunker);
        push = Engine.walPush(bunker).orElseThrow();
        tokens = Tokens.load(new ApiConfig(Map.of(
                "pg-app", new TokenConfig("pg-app", TokenScope.WAL_PUSH, Tokens.hash(pushToken), "app"),
                "pg-dumps", new TokenConfig("pg-dumps", TokenScope.WAL_PUSH, Tokens.hash(otherPushToken), "dumps"),
                "ops", new TokenConfig("ops", TokenScope.ADMIN, Tokens.hash(adminToken)))), config.dataDir());
        api = startApi(0);
        tokenFile = dir.resolve("app-wal.token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, pushToken + "\n");
        // archive_mode needs a restart (given on the command line above); archive_command is read again on reload.
        String command = Path.of("bin/bunker").toAbsolutePath() + " wal push --url " + api.uri() + " --source app --token-file " + tokenFile + " %p";
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("alter system set archive_command = '" + command.replace("'", "''") + "'");
            s.execute("select pg_reload_conf()");
        }
    }

    HttpApi startApi(int port) {
        HttpApi a = new HttpApi(HostPort.parse("127.0.0.1:" + port), tokens, 8).add(WalRoutes.of(push));
        a.start();
        return a;
    }

    @AfterEach
    void tearDown() throws Exception {
        if (api != null) api.close();
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        if (source != null) source.close();
    }

    void sql(String statement) throws Exception {
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    String query(String q) throws Exception {
        try (Connection c = source.getPostgresDatabase().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(q)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Ends the segment in progress; returns its name. */
    String switchWal() throws Exception {
        return query("select pg_walfile_name(pg_switch_wal())");
    }

    /** Waits until the server's archiver reports {@code segment} (or a later one) archived: bin/bunker wal push exited 0. */
    void awaitArchived(String segment) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            String last = query("select coalesce(last_archived_wal, '') from pg_stat_archiver");
            if (last.length() == 24 && last.compareTo(segment) >= 0) return;
            Thread.sleep(100);
        }
        throw new AssertionError("segment " + segment + " was not archived: " + query("select row(s.*)::text from pg_stat_archiver s"));
    }

    long failedArchives() throws Exception {
        return Long.parseLong(query("select failed_count from pg_stat_archiver"));
    }

    List<String> walKeys(String store) throws Exception {
        List<String> out = new ArrayList<>();
        Store s = bunker.stores().get(store);
        String after = null;
        do {
            var page = s.list(WalChunk.ROOT, after, 1000);
            for (ObjectInfo o : page.objects()) out.add(o.key());
            after = page.nextStartAfter();
        } while (after != null);
        return out;
    }

    PointInTimeRestore.Result restoreTo(Instant target, Path into) throws Exception {
        return new PointInTimeRestore(backups.config(), bunker.stores(), backups.restore(), bunker.config().dataDir())
                .run("app", target, into, AgeCrypto.readIdentities(key), l -> {});
    }

    long count(Path restored, String where) throws Exception {
        try (EmbeddedPostgres pg = PointInTimeRestoreTest.startOn(restored); Connection c = PointInTimeRestoreTest.promoted(pg);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from events where " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void segmentsPushedByArchiveCommandUndoADelete() throws Exception {
        backups.take().run("app", "base");
        sql("insert into events (note) select 'live ' || g from generate_series(1, 500) g");
        Thread.sleep(1000);
        Instant beforeDelete = Instant.parse(query("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
        Thread.sleep(1000);
        sql("delete from events where note like 'before %'");
        sql("insert into events (note) values ('after the delete')");
        String last = switchWal();
        awaitArchived(last);

        for (String store : List.of("vault", "shelter")) {
            assertThat(walKeys(store)).as("segment %s in %s", last, store).anyMatch(k -> k.contains("/" + last + ".00000000-01000000."));
        }
        String stored = walKeys("vault").stream().filter(k -> k.contains("/" + last + ".") && k.endsWith(WalChunk.DATA_SUFFIX)).findFirst().orElseThrow();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> faulty.get("vault").real().delete(stored))
                .as("a pushed segment is locked like a base backup").isInstanceOf(ObjectLockedException.class);
        WalLedger.Row row = new WalLedger(bunker.database().dataSource()).list().get(0);
        assertThat(row.archive()).isTrue();
        assertThat(Wal.parseLsn(row.durableLsn())).isEqualTo(Wal.segmentStart(last, 16 << 20) + (16 << 20));

        Path restored = dir.resolve("restored");
        PointInTimeRestore.Result r = restoreTo(beforeDelete, restored);
        assertThat(r.recoveryTarget()).as("restored to the time asked, not to the end of the WAL").isNotNull();
        assertThat(count(restored, "note like 'before %' or note like 'live %'")).as("every row committed before the target, none deleted")
                .isEqualTo(1500);
    }

    @Test
    void theDailyDrillRestoresEverySegmentPushed() throws Exception {
        backups.take().run("app", "base");
        sql("insert into events (note) select 'pushed ' || g from generate_series(1, 300) g");
        Instant lastCommit = Instant.parse(query("select to_char(max(at) at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from events"));
        Instant afterLastCommit = Instant.parse(query("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
        String last = switchWal();
        awaitArchived(last);

        var run = new dev.bunker.drill.DatabaseDrill(bunker.config(), bunker.stores(), new dev.bunker.drill.DrillRuns(bunker.database().dataSource()),
                Clock.systemUTC()).run(null, false);
        assertThat(run.ok()).as(run.log()).isTrue();
        assertThat(run.log()).contains("restore to the newest WAL stored");
        assertThat(run.backupAgeSeconds()).as("how far the restored copy is behind the drill's start").isPositive().isLessThan(120.0);

        // After the last pushed commit, nothing says the WAL is complete (the open segment is the server's): refused once
        // pg_waldump has read the commits, and the empty directory given stays empty though the base backup was being
        // extracted into it meanwhile.
        Path late = Files.createDirectory(dir.resolve("late"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> restoreTo(afterLastCommit, late)).isInstanceOf(PitrException.class)
                .hasMessageContaining("has no commit after").hasMessageContaining("nothing was restored");
        try (var left = Files.list(late)) {
            assertThat(left.toList()).isEmpty();
        }

        Path restored = dir.resolve("latest");
        PointInTimeRestore.Result r = restoreTo(null, restored);
        assertThat(r.recoveryTarget()).as("all of the stored WAL is replayed").isNull();
        assertThat(r.lastCommitAt()).isAfterOrEqualTo(lastCommit.minusMillis(1));
        // What db restore does without --no-start: the server started on a free port, waited for, and left running.
        RestoredServer.Started server = RestoredServer.startForUse(dev.bunker.backup.PgTools.find("postgres", r.majorVersion(), null), restored, 0,
                l -> {});
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + server.port() + "/postgres", "postgres", "");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery(), count(*) from events where note like 'pushed %'")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("promoted").isFalse();
            assertThat(rs.getLong(2)).isEqualTo(300);
        } finally {
            ProcessHandle.of(server.pid()).ifPresent(ProcessHandle::destroy);
            ProcessHandle.of(server.pid()).ifPresent(h -> h.onExit().orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join());
        }
        assertThat(server.lastTransactionAt()).startsWith("through the transaction committed at " + r.lastCommitAt().toString().substring(0, 10));
    }

    @Test
    @Timeout(400)
    void serveDownAndAFailingStoreWhileArchivingLoseNoWal() throws Exception {
        backups.take().run("app", "base");
        int port = api.address().getPort();
        sql("insert into events (note) values ('first')");
        String first = switchWal();
        awaitArchived(first);

        faulty.get("shelter").failPuts = true; // the push is refused with 503: PostgreSQL keeps the segment and retries
        sql("insert into events (note) values ('while a store fails')");
        String second = switchWal();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (failedArchives() == 0 && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(failedArchives()).as("archive_command failed while a backup store did").isPositive();
        assertThat(query("select coalesce(last_archived_wal, '') from pg_stat_archiver")).isEqualTo(first);

        api.close(); // serve down
        faulty.get("shelter").failPuts = false;
        long failedBefore = failedArchives();
        sql("insert into events (note) values ('while serve is down')");
        switchWal();
        deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (failedArchives() == failedBefore && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(failedArchives()).as("archive_command failed while serve was down").isGreaterThan(failedBefore);
        assertThat(walKeys("vault")).as("nothing of %s is counted as stored", second).noneMatch(k -> k.contains("/" + second + ".") && k.endsWith(".json"));
        WalArchiveWatch watch = new WalArchiveWatch(backups.config().sources().get("app"), new WalLedger(bunker.database().dataSource()), Clock.systemUTC());
        WalArchiveWatch.State down = watch.check();
        assertThat(down.caughtUp()).isFalse();
        assertThat(down.problem()).contains("archive_command is failing");
        assertThat(new WalLedger(bunker.database().dataSource()).list().get(0).lastError()).as("status and alerts see it").contains("archive_command is failing");

        api = startApi(port); // serve back: the archiver retries every segment it kept, in order
        Thread.sleep(1200);
        Instant target = Instant.parse(query("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
        Thread.sleep(50);
        sql("insert into events (note) values ('after the target')");
        String last = switchWal(); // a new segment also wakes the archiver from its wait after failures
        awaitArchived(last);

        WalArchiveWatch.State back = watch.check();
        assertThat(back.caughtUp()).as("every finished segment archived once serve is back").isTrue();
        assertThat(back.problem()).isNull();

        Path restored = dir.resolve("restored");
        restoreTo(target, restored);
        assertThat(count(restored, "note in ('first', 'while a store fails', 'while serve is down')")).isEqualTo(3);
        assertThat(count(restored, "note = 'after the target'")).isZero();
    }

    @Test
    void aPromotedStandbyPushesItsTimelineAndARestoreCrossesTheSwitch() throws Exception {
        backups.take().run("app", "base");
        sql("insert into events (note) select 'old timeline' from generate_series(1, 300)");
        Path standbyDir = dir.resolve("standby");
        Map<String, String> archiving = Map.of("archive_mode", "on", "archive_timeout", "60"); // archive_command came with the copy
        EmbeddedPostgres standby = TimelineSwitchTest.startStandby(source, standbyDir, archiving);
        sql("insert into events (note) values ('last on the old primary')"); // a switch needs WAL written since the last one
        awaitArchived(switchWal());
        TimelineSwitchTest.awaitReplayed(source, standby);
        int port = source.getPort();
        source.close(); // failover: the standby takes the address and a new timeline; it pushes 00000002.history first
        RawHttp.Reply noServer = put("app", "00000002.history", "1\t0/3000000\tx\n".getBytes(StandardCharsets.UTF_8), pushToken);
        assertThat(noServer.status()).as("no server to say which cluster it is: try again").isEqualTo(503);
        assertThat(noServer.text()).contains("could not ask backup source 'app' which cluster it is");
        source = TimelineSwitchTest.takeOver(standby, standbyDir, port, archiving);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (walKeys("shelter").stream().noneMatch(k -> k.contains("/00000002.history.") && k.endsWith(".json")) && System.nanoTime() < deadline) Thread.sleep(100);

        sql("insert into events (note) select 'new timeline' from generate_series(1, 150)");
        Thread.sleep(1000);
        Instant target = Instant.parse(query("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
        Thread.sleep(1000);
        sql("delete from events where note like 'before %'");
        String last = switchWal();
        assertThat(last).startsWith("00000002");
        awaitArchived(last);

        Path restored = dir.resolve("restored");
        PointInTimeRestore.Result r = restoreTo(target, restored);
        assertThat(r.recoveryTarget()).isNotNull();
        assertThat(count(restored, "note like 'before %' or note in ('old timeline', 'new timeline')")).isEqualTo(1000 + 300 + 150);
    }

    @Test
    void pushesWithoutTheRightTokenOrWithOtherBytesStoreNothing() throws Exception {
        sql("insert into events (note) values ('x')");
        String segment = switchWal();
        awaitArchived(segment);
        byte[] real = Files.readAllBytes(Path.of(query("show data_directory"), "pg_wal", segment));
        List<String> before = walKeys("vault");
        String other = segment.substring(0, 16) + String.format("%08X", Integer.parseInt(segment.substring(16), 16) + 5);
        byte[] random = new byte[16 << 20];
        new Random(7).nextBytes(random);

        assertThat(put("app", other, real, null).status()).isEqualTo(401);
        assertThat(put("app", other, real, adminToken).status()).as("admin may not push WAL").isEqualTo(403);
        RawHttp.Reply wrongSource = put("app", other, real, otherPushToken);
        assertThat(wrongSource.status()).isEqualTo(403);
        assertThat(wrongSource.text()).contains("pushes the WAL of source dumps, not of app");
        assertThat(put("dumps", other, real, otherPushToken).text()).contains("does not take WAL pushes");
        RawHttp.Reply renamed = put("app", other, real, pushToken);
        assertThat(renamed.status()).isEqualTo(400);
        assertThat(renamed.text()).contains("are segment " + segment);
        RawHttp.Reply noise = put("app", segment, random, pushToken);
        assertThat(noise.status()).isEqualTo(400);
        assertThat(noise.text()).contains("does not start with a WAL segment's header");
        assertThat(put("app", segment + ".history", "1\t0/3000000\tno recovery target\n".getBytes(StandardCharsets.UTF_8), pushToken).text())
                .contains("is not a WAL segment's name");
        assertThat(put("app", "00000001.history", "1\t0/3000000\tx\n".getBytes(StandardCharsets.UTF_8), pushToken).status()).isEqualTo(400);
        assertThat(put("app", "00000002.history", "2\t0/3000000\tits own parent\n".getBytes(StandardCharsets.UTF_8), pushToken).text())
                .contains("PARENT-TIMELINE SWITCH-LSN REASON", "timelines must rise");
        assertThat(put("app", "00000002.history", new byte[] {(byte) 0xff, '\n'}, pushToken).text()).contains("is not text");
        assertThat(put("app", "00000002.history", new byte[100 << 10], pushToken).text()).contains("at most 64 KiB");
        assertThat(put("app", "..%2F..%2Fescape", real, pushToken).status()).isEqualTo(400);
        assertThat(put("app", segment, java.util.Arrays.copyOf(real, 3 << 20), pushToken).text()).contains("power of two");
        RawHttp.Reply huge = RawHttp.send(api.uri(), "PUT /v1/wal/app/" + segment + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + "Authorization: Bearer " + pushToken + "\r\nContent-Length: " + (1L << 30), null, true);
        assertThat(huge.status()).as("a 1 GiB segment is refused before its body is read").isEqualTo(400);
        assertThat(huge.text()).contains("larger than wal push takes");
        assertThat(walKeys("vault")).as("nothing stored by any refused push").isEqualTo(before);
        assertThat(walKeys("shelter")).isEqualTo(walKeys("vault"));

        // The script: a token file others can read is refused before anything is sent, a wrong token fails the push.
        Path loose = dir.resolve("loose.token");
        Files.writeString(loose, pushToken);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        Path segmentFile = dir.resolve(segment);
        Files.write(segmentFile, real);
        Script looseRun = script(loose, segmentFile);
        assertThat(looseRun.exit()).isEqualTo(2);
        assertThat(looseRun.stderr()).contains("is open to its group or other users");
        Path wrong = dir.resolve("wrong.token");
        Files.createFile(wrong, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(wrong, Tokens.newToken());
        Script wrongRun = script(wrong, segmentFile);
        assertThat(wrongRun.exit()).isEqualTo(1);
        assertThat(wrongRun.stderr()).contains("HTTP 401").doesNotContain(pushToken);
        assertThat(walKeys("vault")).isEqualTo(before);
        Script ok = script(tokenFile, segmentFile);
        assertThat(ok.exit()).as(ok.stderr()).isZero();
        assertThat(walKeys("vault")).as("the same segment pushed again is stored again, under keys of its own").hasSize(before.size() + 2);
    }

    RawHttp.Reply put(String source, String name, byte[] body, String token) throws Exception {
        return RawHttp.send(api.uri(), "PUT /v1/wal/" + source + "/" + name + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "Content-Length: " + body.length, body, false);
    }

    record Script(int exit, String stderr) {}

    Script script(Path token, Path segmentFile) throws Exception {
        Process p = new ProcessBuilder(Path.of("bin/bunker").toAbsolutePath().toString(), "wal", "push", "--url", api.uri().toString(),
                "--source", "app", "--token-file", token.toString(), segmentFile.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Script(p.waitFor(), err);
    }
}
