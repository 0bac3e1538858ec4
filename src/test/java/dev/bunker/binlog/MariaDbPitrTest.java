package dev.bunker.binlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.drill.ThrowawayMariaDb;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.HangingStore;
import dev.bunker.testing.TestDatabase;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery of a MariaDB source (a throwaway server with its binary log on): serve streams the binary log
 * into the stores; a DELETE is undone by a restore to the second before it; a process SIGKILLed while storing a chunk
 * leaves neither a gap nor a lost event.
 */
@Timeout(300)
class MariaDbPitrTest {
    @TempDir Path dir;

    static ThrowawayMariaDb source(Path dir) throws Exception {
        ThrowawayMariaDb server = ThrowawayMariaDb.start(dir, List.of("--log-bin=binlog", "--binlog-format=ROW"));
        try (Connection c = server.connect(null); Statement s = c.createStatement()) {
            s.execute("create database shop");
            s.execute("create table shop.orders (id bigint auto_increment primary key, note varchar(100) not null)");
            s.execute("insert into shop.orders (note) select concat('before the dump ', seq) from shop.seq_1_to_500");
            s.execute("create user 'bk'@'127.0.0.1' identified by 'pw-bk'");
            s.execute("grant select, show view, trigger, event, lock tables on shop.* to 'bk'@'127.0.0.1'");
            s.execute("grant select on mysql.proc to 'bk'@'127.0.0.1'");
            s.execute("grant binlog monitor, replication slave on *.* to 'bk'@'127.0.0.1'");
        }
        return server;
    }

    Path config(ThrowawayMariaDb server) throws Exception {
        String recipient = AppDatabases.ageKey(dir.resolve("key.txt"));
        return ConfigFiles.write(dir, TestDatabase.fresh(), """
                data-dir: %s
                backups:
                  recipients: ["%s"]
                  stores: [vault, shelter]
                  sources:
                    shop: {url: "mariadb://bk@127.0.0.1:%d/shop", password: pw-bk, binlog: {flush-every: 300ms}}
                """.formatted(dir.resolve("data"), recipient, server.port()));
    }

    static long count(ThrowawayMariaDb server, String db, String where) throws Exception {
        try (Connection c = server.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from orders " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Waits until every backup store holds the binary log up to where the server's is now. */
    static void awaitStored(Bunker bunker, ThrowawayMariaDb server, ManifestTrust trust) throws Exception {
        String file;
        long pos;
        try (Connection c = server.connect(null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show master status")) {
            rs.next();
            file = rs.getString(1);
            pos = rs.getLong(2);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (String store : List.of("vault", "shelter")) {
            BinlogArchive.End end;
            do {
                Thread.sleep(100);
                List<BinlogChunk> chunks = BinlogArchive.list(bunker.store(store), "shop", trust, null).chunks();
                end = BinlogArchive.end(chunks, null, 0);
            } while ((end == null || !end.file().equals(file) || end.to() < pos) && System.nanoTime() < deadline);
            assertThat(end).as(store).isEqualTo(new BinlogArchive.End(file, pos, false));
        }
    }

    @Test
    void aDeleteIsUndoneByARestoreToTheSecondBeforeIt() throws Exception {
        try (ThrowawayMariaDb server = source(dir); ThrowawayMariaDb other = ThrowawayMariaDb.start(dir, List.of())) {
            BunkerConfig config = ConfigLoader.load(config(server), ConfigLoader.Overrides.NONE);
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Engine engine = Engine.on(bunker);
                 BinlogStreams streams = engine.binlogStreams()) {
                streams.start();
                var dump = engine.backups().take().run("shop", "dump");
                assertThat(dump.binlog()).isNotNull();
                try (Connection c = server.connect("shop"); Statement s = c.createStatement()) {
                    s.execute("insert into orders (note) select concat('after the dump ', seq) from seq_1_to_300");
                    s.execute("flush binary logs"); // the replay crosses into the next file
                    s.execute("insert into orders (note) values ('it''s (a) row; with \\\\ odd bytes')");
                }
                Instant target = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(2);
                while (Instant.now().isBefore(target.plusMillis(100))) Thread.sleep(50);
                try (Connection c = server.connect("shop"); Statement s = c.createStatement()) {
                    s.execute("delete from orders where id % 2 = 0"); // the mistake, at or after target
                    s.execute("insert into orders (note) values ('after the mistake')");
                }
                assertThat(count(server, "shop", "")).isLessThan(801);
                awaitStored(bunker, server, ManifestTrust.of(List.of(), config.dataDir()));

                BinlogRestore restore = new BinlogRestore(config.backups(), bunker.stores(), engine.backups().restore(), config.dataDir());
                List<String> ids = AgeCrypto.readIdentities(dir.resolve("key.txt"));
                assertThatThrownBy(() -> restore.run("shop", target, server.restoreTarget("shop_at"), ids, false, l -> {}))
                        .hasMessageContaining("is on the source's own server").hasMessageContaining("Nothing was restored");
                BinlogRestore.Result r = restore.run("shop", target, other.restoreTarget("shop_at"), ids, false, l -> {});
                assertThat(r.dump()).isEqualTo(dump.id());
                assertThat(r.files()).hasSize(2);
                assertThat(count(other, "shop_at", "")).isEqualTo(801);
                assertThat(count(other, "shop_at", "where note = 'it''s (a) row; with \\\\ odd bytes'")).isEqualTo(1);
                assertThat(count(other, "shop_at", "where note = 'after the mistake'")).isZero();

                // README's by-hand recipe: the dump with age, zstd and mariadb; the binary log rebuilt by docs/restore-binlog.sh and replayed.
                Path vault = ((dev.bunker.store.LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store("vault"))).pathOf(dump.dataKey());
                Path stored = ((dev.bunker.store.LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store("vault"))).pathOf(BinlogChunk.prefix("shop") + "x")
                        .getParent();
                String login = "--no-defaults --protocol=TCP -h 127.0.0.1 -P " + other.port() + " -u bunker";
                ProcessBuilder byHand = new ProcessBuilder("bash", "-c", "set -euo pipefail; mariadb $LOGIN -e 'create database shop_hand'; "
                        + "age -d -i \"$KEY\" \"$DUMP\" | zstd -d | mariadb $LOGIN shop_hand; "
                        + "BUNKER_KEY=\"$KEY\" docs/restore-binlog.sh \"$STORED\" \"$OUT\"; "
                        + "TZ=UTC mariadb-binlog --start-position=$POS --stop-datetime=\"$STOP\" --database=shop --rewrite-db='shop->shop_hand' "
                        + "\"$OUT\"/binlog.* | mariadb $LOGIN").redirectErrorStream(true);
                byHand.environment().putAll(java.util.Map.of("LOGIN", login, "KEY", dir.resolve("key.txt").toString(), "DUMP", vault.toString(),
                        "STORED", stored.toString(), "OUT", dir.resolve("hand").toString(), "POS", String.valueOf(dump.binlog().position()),
                        "STOP", java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(java.time.ZoneOffset.UTC).format(target),
                        "MYSQL_PWD", other.url(null).password()));
                Process hand = byHand.start();
                String handOut = new String(hand.getInputStream().readAllBytes());
                assertThat(hand.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                assertThat(hand.exitValue()).as(handOut).isZero();
                assertThat(count(other, "shop_hand", "")).isEqualTo(801);
                assertThat(count(other, "shop_hand", "where note = 'after the mistake'")).isZero();

                assertThatThrownBy(() -> restore.run("shop", Instant.now().plusSeconds(3600), other.restoreTarget("shop_future"), ids, false, l -> {}))
                        .hasMessageContaining("the stored binary log of shop reaches").hasMessageContaining("Nothing was restored");
                try (Connection c = other.connect(null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show databases like 'shop_future'")) {
                    assertThat(rs.next()).as("a refused restore creates nothing").isFalse();
                }
                assertThatThrownBy(() -> restore.run("shop", dump.finishedAt().minusSeconds(60), other.restoreTarget("shop_early"), ids, false, l -> {}))
                        .hasMessageContaining("no dump of shop with a binary log position finished by");

                // The daily drill of a source with binlog: the newest dump and all of the log after it, in a server of its own.
                var drills = new BunkerConfig.DrillsConfig(Duration.ofDays(1), dir.resolve("key.txt"), "shop", null, Duration.ofDays(2),
                        List.of("select count(*) = 1 from orders where note = 'after the mistake'"), Duration.ofDays(1), 50);
                dev.bunker.drill.DrillRuns.Run drill = new dev.bunker.drill.DatabaseDrill(config.withDrills(drills, BunkerConfig.AlertsConfig.DEFAULTS),
                        bunker.stores(), engine.drills().runs(), Clock.systemUTC()).run("shop", false);
                assertThat(drill.ok()).as(drill.log()).isTrue();
                assertThat(drill.backupId()).isEqualTo(dump.id());
                assertThat(drill.backupAgeSeconds()).as("RPO: the newest replayed event's age").isBetween(0.0, 120.0);
                assertThat(drill.checks()).extracting(dev.bunker.drill.DrillRuns.Check::name)
                        .containsExactly("restore and replay", "sql: select count(*) = 1 from orders where note = 'after the mistake'");

                // Pruning: once the first dump is gone, binlog.000001 is needed by no dump; the locks still hold it until they end.
                var second = engine.backups().take().run("shop", "dump");
                assertThat(second.binlog().file()).isEqualTo("binlog.000002");
                try (Connection c = bunker.database().connection(); Statement s = c.createStatement()) {
                    s.execute("delete from backups where id = '" + dump.id() + "'");
                }
                Clock later = Clock.offset(Clock.systemUTC(), Duration.ofDays(8));
                PruneBinlog.Report dry = new PruneBinlog(config.backups(), bunker.stores(), engine.backups().catalog(), later).run(true);
                assertThat(dry.keptFrom()).containsExactly("shop: from binlog.000002 (dump " + second.id() + ")");
                assertThat(dry.removed()).isNotEmpty().allMatch(k -> k.contains("/shop/binlog.000001/"))
                        .anyMatch(k -> k.endsWith(".json")).anyMatch(k -> k.endsWith(".zst.age"));
                PruneBinlog.Report locked = new PruneBinlog(config.backups(), bunker.stores(), engine.backups().catalog(), later).run(false);
                assertThat(locked.removed()).isEmpty();
                assertThat(locked.lockedStill()).hasSameSizeAs(dry.removed());
                assertThat(new PruneBinlog(config.backups(), bunker.stores(), engine.backups().catalog(), Clock.systemUTC()).run(true).removed())
                        .as("nothing is older than keep yet").isEmpty();
            }
        }
    }

    /** Child: streams the binary log with a shelter that, at the third chunk's metadata, says so and hangs before storing it. */
    public static void main(String[] args) throws Exception {
        BunkerConfig config = ConfigLoader.load(Path.of(args[0]), ConfigLoader.Overrides.NONE);
        Path marker = Path.of(args[1]);
        Bunker bunker = Bunker.open(config, Clock.systemUTC(), s -> !s.name().equals("shelter") ? s
                : new HangingStore(s, key -> key.startsWith(BinlogChunk.ROOT) && key.endsWith(".json"), 3, marker));
        Engine.on(bunker).binlogStreams().start();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void killedWhileStoringAChunkTheNextProcessResumesWithoutAGapOrALostEvent() throws Exception {
        try (ThrowawayMariaDb server = source(dir); ThrowawayMariaDb other = ThrowawayMariaDb.start(dir, List.of())) {
            Path configFile = config(server);
            BunkerConfig config = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                try (Connection c = server.connect("shop"); Statement s = c.createStatement()) {
                    for (int i = 0; !stop.get(); i++) {
                        s.execute("insert into orders (note) values ('streamed " + i + "')");
                        if (i % 500 == 499) s.execute("flush binary logs");
                        Thread.sleep(2);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (Bunker bunker = Bunker.open(config, Clock.systemUTC()); Engine engine = Engine.on(bunker)) {
                engine.backups().take().run("shop", "dump");
                writer.start();
                Path marker = dir.resolve("storing");
                Process child = ChildJvm.start(dir.resolve("child.log"), MariaDbPitrTest.class, configFile.toString(), marker.toString());
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (!Files.exists(marker) && System.nanoTime() < deadline) Thread.sleep(50);
                    assertThat(marker).as("the child was storing a chunk").exists();
                } finally {
                    child.destroyForcibly().waitFor(); // SIGKILL
                }
                String interrupted = Files.readString(marker).strip();
                assertThat(bunker.store("shelter").stat(interrupted)).as("the killed chunk's metadata never reached the shelter").isEmpty();

                try (BinlogStreams streams = engine.binlogStreams()) {
                    streams.start();
                    Thread.sleep(1500);
                    stop.set(true);
                    writer.join(10_000);
                    awaitStored(bunker, server, ManifestTrust.of(List.of(), config.dataDir()));
                }
                long rows = count(server, "shop", "");
                assertThat(rows).isGreaterThan(600);
                Instant target = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(2);
                while (Instant.now().isBefore(target.plusMillis(100))) Thread.sleep(50);
                try (BinlogStreams streams = engine.binlogStreams()) { // an event after the target, stored, so the log reaches it
                    streams.start();
                    try (Connection c = server.connect("shop"); Statement s = c.createStatement()) {
                        s.execute("insert into orders (note) values ('after the target')");
                    }
                    awaitStored(bunker, server, ManifestTrust.of(List.of(), config.dataDir()));
                }
                new BinlogRestore(config.backups(), bunker.stores(), engine.backups().restore(), config.dataDir())
                        .run("shop", target, other.restoreTarget("shop_r"), AgeCrypto.readIdentities(dir.resolve("key.txt")), false, l -> {});
                assertThat(count(other, "shop_r", "")).isEqualTo(rows);
            } finally {
                stop.set(true);
            }
        }
    }
}
