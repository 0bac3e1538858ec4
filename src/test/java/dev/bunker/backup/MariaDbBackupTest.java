package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.testing.MariaDbFixture;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.Unwrapped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dumps of a real MariaDB (the machine's server) with the system mariadb-dump, encrypted with age into real stores, while a
 * writer keeps inserting; restored with Bunker and by hand with age, zstd and the mariadb client.
 */
@Timeout(180)
class MariaDbBackupTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    MariaDbFixture source;
    final List<String> targets = new ArrayList<>();
    Path key;
    String recipient;
    Bunker bunker;
    Backups backups;

    @BeforeEach
    void setUp() throws Exception {
        source = MariaDbFixture.create();
        try (Connection c = source.admin(); Statement s = c.createStatement()) {
            s.execute("create table orders (id bigint auto_increment primary key, customer varchar(100) not null, created_at datetime(6) not null)");
            s.execute("create table order_lines (order_id bigint not null, n int not null, note text, payload blob, primary key (order_id, n))");
            s.execute("create table `odd``name` (id int primary key, v varchar(50))");
            s.execute("insert into `odd``name` values (1, 'x'), (2, ')(;''')");
            // Strings a naive row counter or a careless restore would trip on: quotes, backslashes, parentheses, semicolons, a NUL, an emoji.
            s.execute("insert into orders (customer, created_at) select concat('c', seq, case seq % 5 when 0 then ' it''s' when 1 then ' back\\\\slash' "
                    + "when 2 then ' (a),(b);' when 3 then ' \\0nul' else ' \u2603\uD83D\uDE00' end), now(6) - interval seq second from seq_1_to_2000");
            s.execute("insert into order_lines select id, n.seq, concat('line ', n.seq, ' of ', customer, '\\n;'), unhex(sha2(concat(id, '/', n.seq), 256)) "
                    + "from orders, seq_1_to_2 n");
            s.execute("create view big_orders as select o.id, count(*) n_lines from orders o join order_lines l on l.order_id = o.id group by o.id");
            s.execute("create trigger line_note before insert on order_lines for each row set new.note = coalesce(new.note, 'none')");
            // A body with what a row counter must not take for rows: an INSERT at a line's start, a double-quoted string with a quote.
            s.execute("create procedure order_count(out n bigint) begin\nINSERT INTO `order_lines` VALUES (1, 9, \"it's (a) body;\", null);\n"
                    + "select count(*) into n from orders; end");
            s.execute("create table inv (a int primary key, b int invisible)"); // dumped with a column list
            s.execute("insert into inv (a, b) values (1, 10), (2, 20)");
            s.execute("create event tidy on schedule every 1 day disable do delete from order_lines where 1 = 0");
        }
        key = dir.resolve("key.txt");
        Process p = new ProcessBuilder("age-keygen", "-o", key.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        recipient = Files.readAllLines(key).stream().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow().substring(14);
        open(config(source.user, false));
    }

    BackupsConfig config(String user, boolean allowWriter) {
        return new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                Map.of("shop", new BackupSource("shop", source.url().replace(source.user + "@", user + "@"), null, source.password)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, allowWriter);
    }

    void open(BackupsConfig b) {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        bunker = Bunker.open(TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b), clock);
        backups = Engine.backups(bunker);
    }

    String newTarget() {
        String db = source.database + "_r" + targets.size();
        targets.add(db);
        return db;
    }

    @AfterEach
    void tearDown() throws Exception {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        for (String t : targets) MariaDbFixture.drop(t);
        if (source != null) source.close();
    }

    /** Per table: rows and a checksum of every row (CHECKSUM TABLE reads each row's bytes). */
    static Map<String, String> fingerprint(String db) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = MariaDbFixture.admin(db); Statement s = c.createStatement()) {
            for (String t : List.of("orders", "order_lines", "`odd``name`")) {
                try (ResultSet rs = s.executeQuery("select count(*) from " + t)) {
                    rs.next();
                    out.put(t, String.valueOf(rs.getLong(1)));
                }
                try (ResultSet rs = s.executeQuery("checksum table " + t + " extended")) {
                    rs.next();
                    out.put(t, out.get(t) + ":" + rs.getLong(2));
                }
            }
            for (String q : List.of("select count(*) from big_orders", "select count(*) from information_schema.triggers where trigger_schema = database()",
                    "select count(*) from information_schema.routines where routine_schema = database()",
                    "select count(*) from information_schema.events where event_schema = database()")) {
                try (ResultSet rs = s.executeQuery(q)) {
                    rs.next();
                    out.put(q, String.valueOf(rs.getLong(1)));
                }
            }
        }
        return out;
    }

    @Test
    void aDumpTakenWhileAWriterInsertsRestoresToOneConsistentMoment() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong written = new AtomicLong();
        Thread writer = new Thread(() -> {
            try (Connection c = source.admin(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) { // an order and its two lines in one transaction: a consistent copy has twice as many lines as orders
                    s.execute("insert into orders (customer, created_at) values ('writer', now(6))");
                    s.execute("insert into order_lines values (last_insert_id(), 1, 'w', null), (last_insert_id(), 2, 'w', null)");
                    c.commit();
                    written.incrementAndGet();
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        while (written.get() < 50) Thread.sleep(10);
        Manifest m;
        try {
            m = backups.take().run("shop", "dump");
        } finally {
            stop.set(true);
            writer.join(10_000);
        }
        long orders = m.rowCounts().get("`orders`");
        assertThat(orders).isGreaterThan(2000);
        assertThat(m.rowCounts()).containsEntry("`order_lines`", 2 * orders).containsEntry("`odd``name`", 2L).containsEntry("`inv`", 2L)
                .doesNotContainKey("`big_orders`");
        assertThat(m.isMariaDb()).isTrue();
        assertThat(m.format()).startsWith("mariadb-dump ").contains("--single-transaction");
        assertThat(written.get()).as("the writer went on while the dump ran").isGreaterThan(orders - 2000);

        String target = newTarget();
        RestoreBackup.Result r = backups.restore().run(m, MariaDbFixture.adminUrl(target), AgeCrypto.readIdentities(key), false, line -> {});
        assertThat(r.store()).isEqualTo("vault");
        Map<String, String> restored = fingerprint(target);
        assertThat(restored.get("orders")).startsWith(orders + ":");
        assertThat(restored.get("order_lines")).startsWith(2 * orders + ":");
        assertThat(restored.get("select count(*) from big_orders")).isEqualTo(String.valueOf(orders));
        assertThat(restored).containsEntry("select count(*) from information_schema.triggers where trigger_schema = database()", "1")
                .containsEntry("select count(*) from information_schema.routines where routine_schema = database()", "1")
                .containsEntry("select count(*) from information_schema.events where event_schema = database()", "1");
        // The rows the dump holds are the source's rows byte for byte: cut the source back to the dump's moment and compare.
        long last;
        try (Connection c = MariaDbFixture.admin(target); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select max(id) from orders")) {
            rs.next();
            last = rs.getLong(1); // the bulk insert leaves gaps in the ids: the count is not the last id
        }
        try (Connection c = source.admin(); Statement s = c.createStatement()) {
            s.execute("delete from order_lines where order_id > " + last);
            s.execute("delete from orders where id > " + last);
        }
        assertThat(restored).isEqualTo(fingerprint(source.database));
    }

    @Test
    void theByHandRecipeRestoresWithAgeZstdAndTheMariadbClient() throws Exception {
        Manifest m = backups.take().run("shop", "dump");
        Path file = ((LocalStore) Unwrapped.of(bunker.store("shelter"))).pathOf(m.dataKey());
        String target = newTarget();
        try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
            s.execute("create database " + target);
        }
        // README, "Restore by hand": no Bunker, no database of Bunker's, only the key.
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -o pipefail; age -d -i \"$KEY\" \"$FILE\" | zstd -d | mariadb $LOGIN \"$DB\"")
                .redirectErrorStream(true);
        pb.environment().putAll(Map.of("KEY", key.toString(), "FILE", file.toString(), "DB", target, "LOGIN", MariaDbFixture.clientArgs()));
        pb.environment().putAll(MariaDbFixture.clientEnv());
        Process q = pb.start();
        String out = new String(q.getInputStream().readAllBytes());
        assertThat(q.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).as(out).isZero();
        assertThat(fingerprint(target)).isEqualTo(fingerprint(source.database));
    }

    @Test
    void aUserThatMayWriteIsRefusedAndNothingIsKept() throws Exception {
        String writer = "wr_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
            s.execute("create user '" + writer + "'@'127.0.0.1' identified by '" + source.password + "'");
            s.execute("grant select, show view, trigger, event, insert, delete on " + source.database + ".* to '" + writer + "'@'127.0.0.1'");
            s.execute("grant select on mysql.proc to '" + writer + "'@'127.0.0.1'");
        }
        try {
            open(config(writer, false));
            assertThatThrownBy(() -> backups.take().run("shop", "dump"))
                    .hasMessageContaining("connects as " + writer + ", which may change the data it backs up (INSERT ON `" + source.database + "`.*, DELETE ON")
                    .hasMessageContaining("GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `" + source.database + "`.*")
                    .hasMessageNotContaining(source.password);
            assertThat(backups.catalog().list()).isEmpty();
            assertThat(bunker.store("vault").list(Manifest.ROOT, null, 10).objects()).isEmpty();

            open(config(writer, true)); // the explicit override
            assertThat(backups.take().run("shop", "dump").rowCounts()).containsEntry("`orders`", 2000L);
        } finally {
            try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
                s.execute("drop user '" + writer + "'@'127.0.0.1'");
            }
        }
    }

    @Test
    void aUserThatCannotSeeTheRoutinesOrTriggersIsRefusedRatherThanDumpedWithoutThem() throws Exception {
        try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
            s.execute("revoke select on mysql.proc from '" + source.user + "'@'127.0.0.1'");
        }
        assertThatThrownBy(() -> backups.take().run("shop", "dump"))
                .hasMessageContaining("cannot see the database's stored procedures and functions, so its dumps would leave them out")
                .hasMessageContaining("GRANT SELECT ON mysql.proc TO '" + source.user + "'@'BUNKER-HOST'");
        try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
            s.execute("grant select on mysql.proc to '" + source.user + "'@'127.0.0.1'");
            s.execute("revoke trigger on " + source.database + ".* from '" + source.user + "'@'127.0.0.1'");
        }
        assertThatThrownBy(() -> backups.take().run("shop", "dump")).hasMessageContaining("lacks TRIGGER")
                .hasMessageContaining("would leave out the database's triggers");
        assertThat(backups.catalog().list()).isEmpty();
    }

    @Test
    void aDumpThatFailsMidwayLeavesNoBackupAndSaysWhy() throws Exception {
        try (Connection c = source.admin(); Statement s = c.createStatement()) {
            // mariadb-dump writes the tables in name order: orders' rows are streamed before it reaches this broken view.
            s.execute("create table zz_gone (id int)");
            s.execute("create view zz_view as select id from zz_gone");
            s.execute("drop table zz_gone");
        }
        assertThatThrownBy(() -> backups.take().run("shop", "dump")).hasMessageContaining("mariadb-dump failed").hasMessageContaining("zz_view");
        assertThat(backups.catalog().list()).isEmpty();
        assertThatThrownBy(() -> backups.restore().find("latest", "shop")).hasMessageContaining("no backup yet");
    }

    @Test
    void aTargetWithTablesIsRefusedUnlessCleanAndAPostgresTargetIsRefused() throws Exception {
        Manifest m = backups.take().run("shop", "dump");
        String target = newTarget();
        List<String> ids = AgeCrypto.readIdentities(key);
        try (Connection c = MariaDbFixture.admin(null); Statement s = c.createStatement()) {
            s.execute("create database " + target);
            s.execute("create table " + target + ".orders (id int)");
            s.execute("insert into " + target + ".orders values (42)");
        }
        assertThatThrownBy(() -> backups.restore().run(m, MariaDbFixture.adminUrl(target), ids, false, line -> {}))
                .hasMessageContaining("is not empty (1 tables and views)").hasMessageContaining("--clean");
        try (Connection c = MariaDbFixture.admin(target); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select id from orders")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(42); // untouched
        }
        assertThatThrownBy(() -> backups.restore().run(m, "postgresql://postgres@127.0.0.1:5432/x", ids, false, line -> {}))
                .hasMessageContaining("is a MariaDB dump; restore it into a MariaDB or MySQL database");
        backups.restore().run(m, MariaDbFixture.adminUrl(target), ids, true, line -> {});
        assertThat(fingerprint(target)).isEqualTo(fingerprint(source.database));
    }
}
