package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clones of a real PostgreSQL backup (taken with pg_dump by Bunker, into local stores) into a scrubbed database on the same
 * server: what is rewritten, what must stay byte-identical, the joins, and that a refused or failed clone changes nothing.
 */
@Timeout(180)
class CloneTest {
    static final String SCRUB = """
            hash-key-file: hash.key
            public.accounts.email: hash
            public.accounts.full_name: fake-name
            public.accounts.phone: fake-phone
            public.accounts.ip: "null"
            public.accounts.note: {constant: "redacted"}
            public.accounts.display_name: keep
            public.orders.shipping_name: fake-name
            public.orders.status: shuffle
            public.orders.contact_email: fake-email
            """;

    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    DatabaseConfig app;
    String server; // postgresql://postgres@127.0.0.1:PORT/ of the test server
    Path key;
    Bunker bunker;
    Backups backups;
    Manifest backup;
    final List<String> phases = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("""
                    create table accounts (email text primary key, account_no int not null unique, full_name text, display_name text,
                        phone varchar(40), ip inet, note text, created_at timestamptz not null);
                    create table orders (id bigserial primary key, account_email text not null references accounts (email),
                        amount numeric(10, 2) not null, shipping_name text, contact_email text, status text, coupon text);
                    insert into accounts
                    select 'user' || g || '@corp.example.org', g, (array['Ann Lee', 'Bo Ng', 'Zoë Ångström', 'O''Brien, Pat', ''])[1 + g % 5] || ' ' || g,
                           'shown ' || g, case when g % 7 = 0 then null else '+1 555 01' || lpad(g::text, 4, '0') end,
                           case when g % 3 = 0 then null else ('10.0.' || (g % 250) || '.' || (g % 200))::inet end,
                           case when g % 4 = 0 then null else 'note; drop table x; -- "' || g end, timestamptz '2026-01-01' + g * interval '1 hour'
                      from generate_series(1, 300) g;
                    insert into accounts values ('', 301, '', 'empty', '', null, '', now()), ('o''brien"quote@例え.jp', 302, 'Ünïcødé ''"; --', 'odd', null, '::1', null, now()),
                        (E'tab\\there\\nnew\\\\line\\r@x', 303, E'a\\tb', E'\\\\N \\\\. \\t\\n\\r\\b\\f\\013 \\\\', E'+1\\t555', null, E'\\\\.', now());
                    insert into orders (account_email, amount, shipping_name, contact_email, status, coupon)
                    select a.email, (g % 1000) / 10.0, case when g % 5 = 0 then null else a.full_name end,
                           case when g % 6 = 0 then null else 'buyer' || (g % 97) || '@shop.example.net' end,
                           (array['new', 'paid', 'shipped', null])[1 + g % 4], case when g % 2 = 0 then 'C' || g end
                      from generate_series(1, 1500) g join accounts a on a.account_no = 1 + g % 302;
                    """);
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        key = dir.resolve("age.txt");
        String recipient = AppDatabases.ageKey(key);
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"), Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(25), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false, List.of(), BackupsConfig.KEEP_NEWEST);
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b);
        bunker = Bunker.open(config, clock);
        backups = Engine.backups(bunker);
        backup = backups.take().run("app", "dump");
        String jdbc = app.url();
        server = "postgresql://postgres@" + jdbc.substring("jdbc:postgresql://".length(), jdbc.lastIndexOf('/') + 1);
        Path hashKey = dir.resolve("hash.key");
        Files.write(hashKey, "a stable key for dev clones, 32+ bytes".getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(hashKey, PosixFilePermissions.fromString("rw-------"));
    }

    @AfterEach
    void tearDown() {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
    }

    ScrubFile scrub(String yaml) throws Exception {
        Path f = dir.resolve("scrub-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, yaml);
        return ScrubFile.read(f);
    }

    CloneDatabase.Result cloneInto(String db, String yaml, boolean replace) throws Exception {
        return cloneWith(new CloneDatabase(backups.restore(), null, clock), db, yaml, replace);
    }

    CloneDatabase.Result cloneWith(CloneDatabase cloner, String db, String yaml, boolean replace) throws Exception {
        return cloner.run(backup, server + db, scrub(yaml), AgeCrypto.readIdentities(key), replace, false,
                line -> {}, phases::add);
    }

    /** This test's clones' prefix: the server is shared by every test of the JVM. */
    final String prefix = "clone_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8) + "_";

    String newName() {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 6);
    }

    Connection connect(String db) throws Exception {
        String base = app.url().substring(0, app.url().lastIndexOf('/') + 1);
        return DriverManager.getConnection(base + db, "postgres", null);
    }

    List<List<String>> rows(Connection c, String sql) throws Exception {
        List<List<String>> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                out.add(row);
            }
        }
        return out;
    }

    List<String> column(Connection c, String sql) throws Exception {
        return rows(c, sql).stream().map(r -> r.get(0)).toList();
    }

    String one(Connection c, String sql) throws Exception {
        return rows(c, sql).get(0).get(0);
    }

    /** Databases on the server whose names start with {@code prefix}: a refused or failed clone leaves none behind. */
    List<String> databases(String prefix) throws Exception {
        try (Connection c = connect("postgres")) {
            return column(c, "select datname from pg_database where datname like '" + prefix + "%' order by 1");
        }
    }

    @Test
    void aCloneHasNoOriginalValueInScrubbedColumnsKeepsJoinsAndLeavesTheRestByteIdentical() throws Exception {
        String target = newName();
        CloneDatabase.Result r = cloneInto(target, SCRUB, false);
        assertScrubbedClone(target, r);
        assertThat(phases).contains("restoring the data: 2 table(s) scrubbed as they load (COPY), the rest with pg_restore");
        assertThat(r.seconds()).containsKeys("download", "pre-data", "data+scrub", "post-data", "swap");
    }

    @Test
    void aCloneScrubbedInTheDatabaseAfterTheLoadGivesTheSame() throws Exception {
        String target = newName();
        CloneDatabase.Result r = cloneWith(new CloneDatabase(backups.restore(), null, clock).scrubbingInDatabase(), target, SCRUB, false);
        assertScrubbedClone(target, r);
        assertThat(r.seconds()).containsKeys("download", "pre-data", "data", "scrub+verify", "post-data", "swap");
        // Both ways give the same values for the same key (the shuffle aside, which is random).
        String other = newName();
        cloneInto(other, SCRUB, false);
        String values = "select account_no, email, full_name, phone, ip, note from accounts order by account_no";
        String orders = "select id, account_email, shipping_name, contact_email from orders order by id";
        try (Connection a = connect(target); Connection b = connect(other)) {
            assertThat(rows(a, values)).isEqualTo(rows(b, values));
            assertThat(rows(a, orders)).isEqualTo(rows(b, orders));
        }
    }

    void assertScrubbedClone(String target, CloneDatabase.Result r) throws Exception {
        assertThat(r.replaced()).isFalse();
        assertThat(phases).contains("public.orders.account_email takes hash from public.accounts.email (foreign key)");
        assertThat(databases(target)).containsExactly(target);
        try (Connection src = connect(app.url().substring(app.url().lastIndexOf('/') + 1)); Connection dst = connect(target)) {
            // No original value is left in any rewritten column (compared with the whole source column, not row by row).
            for (String col : List.of("accounts.email", "accounts.full_name", "accounts.phone", "orders.account_email", "orders.shipping_name",
                    "orders.contact_email")) {
                String[] tc = col.split("\\.");
                List<String> originals = column(src, "select distinct " + tc[1] + " from " + tc[0] + " where " + tc[1] + " is not null");
                List<String> now = column(dst, "select " + tc[1] + " from " + tc[0] + " where " + tc[1] + " is not null");
                assertThat(now).as(col).isNotEmpty().doesNotContainAnyElementsOf(originals);
                // NULLs stay NULL, values stay values
                assertThat(one(dst, "select count(" + tc[1] + ") from " + tc[0])).as(col).isEqualTo(one(src, "select count(" + tc[1] + ") from " + tc[0]));
            }
            assertThat(one(dst, "select count(*) from accounts where ip is not null")).isEqualTo("0");
            assertThat(column(dst, "select distinct note from accounts where note is not null")).containsExactly("redacted");
            assertThat(one(dst, "select count(note) from accounts")).isEqualTo(one(src, "select count(note) from accounts"));
            // The hash is HMAC-SHA256 with the key file's bytes, lowercase hex: the same as any HMAC library gives.
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Files.readAllBytes(dir.resolve("hash.key")), "HmacSHA256"));
            String expected = HexFormat.of().formatHex(mac.doFinal("o'brien\"quote@例え.jp".getBytes(StandardCharsets.UTF_8)));
            assertThat(one(dst, "select email from accounts where account_no = 302")).isEqualTo(expected);
            assertThat(one(dst, "select email from accounts where account_no = 301")).hasSize(64); // '' is a value too
            String odd = HexFormat.of().formatHex(mac.doFinal("tab\there\nnew\\line\r@x".getBytes(StandardCharsets.UTF_8)));
            assertThat(one(dst, "select email from accounts where account_no = 303")).isEqualTo(odd); // tabs, newlines, backslashes as they are
            // Joins match row for row: each order belongs to the same account (by its unscrubbed number) as in the source.
            String join = "select o.id, a.account_no from orders o join accounts a on a.email = o.account_email order by o.id";
            assertThat(rows(dst, join)).hasSize(1500).isEqualTo(rows(src, join));
            // Same input, same output across tables: a shipping name equal to its account's name got the same fake.
            String same = "select count(*) from orders o join accounts a on a.email = o.account_email where o.shipping_name = a.full_name";
            assertThat(one(dst, same)).isEqualTo(one(src, same)).isNotEqualTo("0");
            // Unscrubbed columns are byte-identical.
            String accounts = "select md5(string_agg(concat_ws('|', account_no, display_name, created_at), E'\\n' order by account_no)) from accounts";
            assertThat(one(dst, "select display_name from accounts where account_no = 303")).isEqualTo("\\N \\. \t\n\r\b\f\u000b \\");
            String orders = "select md5(string_agg(concat_ws('|', id, amount, coupon), E'\\n' order by id)) from orders";
            assertThat(one(dst, accounts)).isEqualTo(one(src, accounts));
            assertThat(one(dst, orders)).isEqualTo(one(src, orders));
            // A shuffle keeps the column's values (and its NULLs), in other rows.
            String statuses = "select status, count(*) from orders group by status order by 1 nulls first";
            assertThat(rows(dst, statuses)).isEqualTo(rows(src, statuses));
            assertThat(column(dst, "select id from orders where status is null order by id")).isEqualTo(column(src, "select id from orders where status is null order by id"));
            List<String> before = column(src, "select coalesce(status, '') from orders order by id");
            List<String> after = column(dst, "select coalesce(status, '') from orders order by id");
            assertThat(after).as("moved between rows").isNotEqualTo(before);
            // post-data ran after the scrub: the keys and the foreign key are there (the foreign key validated the joins).
            assertThat(column(dst, "select conname from pg_constraint where conrelid = 'orders'::regclass and contype = 'f'")).hasSize(1);
            assertThat(column(dst, "select contype::text from pg_constraint where conrelid = 'accounts'::regclass order by 1")).contains("p", "u");
            // What was done is recorded, without any original value or the key.
            List<List<String>> recorded = rows(dst, "select table_name || '.' || column_name, rule, coalesce(propagated_from, ''), rows_changed, "
                    + "survivors, backup_id from bunker_scrub.columns order by 1");
            assertThat(recorded).extracting(x -> x.get(0) + " " + x.get(1)).containsExactly("accounts.email hash", "accounts.full_name fake-name",
                    "accounts.ip null", "accounts.note constant", "accounts.phone fake-phone", "orders.account_email hash",
                    "orders.contact_email fake-email", "orders.shipping_name fake-name", "orders.status shuffle");
            assertThat(recorded).allSatisfy(x -> assertThat(x.get(4)).isEqualTo("0")).allSatisfy(x -> assertThat(x.get(5)).isEqualTo(backup.id()));
            assertThat(recorded.get(5).get(2)).isEqualTo("public.accounts.email");
            assertThat(recorded.get(0).get(3)).isEqualTo("303");
            String everything = String.join(" ", column(dst, "select t::text from bunker_scrub.columns t"));
            assertThat(everything).doesNotContain("corp.example.org", "Ann Lee", "a stable key");
            // Everyone may connect again once the clone is in place.
            assertThat(one(dst, "select has_database_privilege('public', current_database(), 'CONNECT')")).isEqualTo("t");
        }
        assertThat(r.columns()).hasSize(9);
    }

    @Test
    void theSameKeyGivesTheSameCloneAndAReplaceSwapsOnlyAtTheEnd() throws Exception {
        String target = newName();
        cloneInto(target, SCRUB, false);
        List<List<String>> first;
        try (Connection c = connect(target)) {
            first = rows(c, "select account_no, email, full_name, phone from accounts order by account_no");
            c.createStatement().execute("create table marker (x int)");
        }
        // A target that exists is refused without --replace, before anything is downloaded or created.
        assertThatThrownBy(() -> cloneInto(target, SCRUB, false)).isInstanceOf(CloneException.class).hasMessageContaining("exists")
                .hasMessageContaining("--replace").matches(e -> ((CloneException) e).callersFault());
        try (Connection open = connect(target)) { // a session on the old target is ended by --replace
            CloneDatabase.Result r = cloneInto(target, SCRUB, true);
            assertThat(r.replaced()).isTrue();
            assertThat(open.isValid(2)).isFalse();
        }
        try (Connection c = connect(target)) {
            assertThat(rows(c, "select account_no, email, full_name, phone from accounts order by account_no")).isEqualTo(first);
            assertThat(one(c, "select to_regclass('public.marker') is null")).isEqualTo("t");
        }
        assertThat(databases(target)).containsExactly(target);
    }

    @Test
    void anUnlistedPersonalLookingColumnFailsTheCloneAndChangesNothing() throws Exception {
        String target = newName();
        cloneInto(target, SCRUB, false);
        try (Connection c = connect(target)) {
            c.createStatement().execute("create table marker (x int)");
        }
        String withoutKeep = SCRUB.replace("public.accounts.display_name: keep\n", "").replace("public.orders.contact_email: fake-email\n", "");
        assertThatThrownBy(() -> cloneInto(target, withoutKeep, true)).isInstanceOf(CloneException.class)
                .hasMessageContaining("2 column(s) look personal").hasMessageContaining("public.accounts.display_name")
                .hasMessageContaining("public.orders.contact_email").matches(e -> ((CloneException) e).callersFault());
        assertThat(databases(target)).containsExactly(target);
        try (Connection c = connect(target)) {
            assertThat(one(c, "select to_regclass('public.marker') is not null")).isEqualTo("t");
        }
        // --check reports the same coverage and creates nothing.
        CloneDatabase.Result check = new CloneDatabase(backups.restore(), null, clock).run(backup, server + newName(), scrub(withoutKeep),
                AgeCrypto.readIdentities(key), false, true, line -> {}, line -> {});
        assertThat(check.plan().coverage().uncovered()).extracting(Object::toString)
                .containsExactly("public.accounts.display_name", "public.orders.contact_email");
        assertThat(check.plan().coverage().scrubbed()).extracting(Object::toString).contains("public.orders.account_email");
        assertThat(check.columns()).isEmpty();
        assertThat(databases(prefix)).containsExactly(target);
    }

    @Test
    void aFailureMidwayDropsThePrivateDatabaseAndLeavesTheOldTargetUntouched() throws Exception {
        String target = newName();
        cloneInto(target, SCRUB, false);
        try (Connection c = connect(target)) {
            c.createStatement().execute("create table marker (x int)");
        }
        // A constant on the primary key (and, through the foreign key, on orders.account_email): the unique index built in
        // post-data fails after the data was scrubbed.
        String constantKey = SCRUB.replace("public.accounts.email: hash", "public.accounts.email: {constant: same@example.com}");
        assertThatThrownBy(() -> cloneInto(target, constantKey, true)).isInstanceOf(CloneException.class)
                .hasMessageContaining("could not create unique index").matches(e -> !((CloneException) e).callersFault());
        assertThat(databases(target)).containsExactly(target);
        try (Connection c = connect(target)) {
            assertThat(one(c, "select to_regclass('public.marker') is not null")).isEqualTo("t");
        }
        // A clone into a new name that fails leaves no database at all.
        String fresh = newName();
        assertThatThrownBy(() -> cloneInto(fresh, constantKey, false)).isInstanceOf(CloneException.class);
        assertThat(databases(fresh)).isEmpty();
    }

    @Test
    void whatAKilledCloneLeftIsDroppedByTheNextAndTwoClonesOfOneTargetNeverRunTogether() throws Exception {
        String target = newName();
        String left = target + "_bunker_clone_deadbeef"; // as a clone killed with SIGKILL leaves it: unscrubbed rows
        try (Connection c = connect("postgres")) {
            c.createStatement().execute("create database " + left);
        }
        try (Connection c = connect(left)) {
            c.createStatement().execute("create table accounts as select 'real@person.example' as email");
        }
        try (Connection holder = connect("postgres"); Statement s = holder.createStatement()) {
            s.execute("select pg_advisory_lock(hashtext('bunker-clone'), hashtext('" + target + "'))"); // another run of the same target
            assertThatThrownBy(() -> cloneInto(target, SCRUB, false)).isInstanceOf(CloneException.class)
                    .hasMessageContaining("another clone into " + target + " is running").matches(e -> ((CloneException) e).callersFault());
            assertThat(databases(target)).as("nothing dropped while another run may own it").containsExactly(left);
        }
        cloneInto(target, SCRUB, false);
        assertThat(databases(target)).containsExactly(target);
        assertThat(phases).anyMatch(l -> l.contains("dropping " + left + ", left by an interrupted clone"));
    }

    @Test
    void hostileOrWrongScrubFilesAreRefusedBeforeAnythingIsCreated() throws Exception {
        String target = newName();
        Map<String, String> cases = new HashMap<>();
        cases.put(SCRUB + "public.accounts.\"email\"\"; drop table accounts; --\": hash\n", "no column public.accounts.email\"; drop table accounts; --");
        cases.put(SCRUB + "public.acounts.full_nam: hash\n", "(closest: public.accounts.full_name");
        cases.put(SCRUB.replace("fake-phone", "md5"), "unknown rule \"md5\"; the rules are fake-email, fake-name, fake-phone, hash, null, {constant: X}, shuffle, keep");
        cases.put(SCRUB + "public.accounts.account_no: hash\n", "hash cannot fit integer");
        cases.put(SCRUB + "public.accounts.created_at: \"null\"\n", "NOT NULL, so null cannot apply");
        cases.put(SCRUB + "public.orders.account_email: keep\n", "public.orders.account_email (keep) references public.accounts.email (hash)");
        cases.put(SCRUB.replace("public.accounts.email: hash", "public.accounts.email: shuffle"), "is shuffled but public.orders.account_email references it");
        cases.put("just a string", "must map schema.table.column to a rule");
        cases.put(SCRUB + "accounts.email: hash\n", "is not schema.table.column");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            assertThatThrownBy(() -> cloneInto(target, c.getKey(), false)).as(c.getValue()).isInstanceOf(CloneException.class)
                    .hasMessageContaining(c.getValue()).matches(e -> ((CloneException) e).callersFault());
        }
        assertThat(databases(target)).isEmpty();
        assertThat(databases(prefix)).isEmpty();
        // A hash key file every user may read is refused.
        Files.setPosixFilePermissions(dir.resolve("hash.key"), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> cloneInto(target, SCRUB, false)).isInstanceOf(CloneException.class).hasMessageContaining("readable by every user")
                .hasMessageContaining("chmod 600");
        assertThat(databases(target)).isEmpty();
    }
}
