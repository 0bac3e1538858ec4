package dev.bunker.scrub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.Backups;
import dev.bunker.backup.Manifest;
import dev.bunker.backup.RestoreBackup;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Scrubbed clones of a real PostgreSQL backup: nothing original left where scrubbed, joins intact, the rest byte-identical. */
@Timeout(240)
class CloneTest {
    @TempDir Path dir;
    DatabaseConfig app;
    Path key;
    Bunker bunker;
    Backups backups;
    Manifest backup;
    final String target = "clone_" + UUID.randomUUID().toString().substring(0, 8);
    final List<String> lines = new ArrayList<>();
    final Consumer<String> progress = lines::add;

    static final String SCRUB = """
            columns:
              public.accounts.email: hash              # orders.account_email references it: scrubbed the same way
              public.accounts.full_name: fake-name
              public.accounts.phone: fake-phone
              public.accounts.ip: null
              public.accounts.note: {constant: "redacted"}
              public.accounts.tier: shuffle
              public.accounts.contact_email: fake-email
              public.orders.shipping_name: fake-name
              public.orders.details: {constant: "{}"}
            """;

    @BeforeEach
    void setUp() throws Exception {
        app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table accounts (id int unique not null, email text primary key, full_name text, phone text, ip inet, note text,"
                    + " tier text, contact_email varchar(80) unique, created_at timestamptz not null default now())");
            s.execute("create table orders (id bigserial primary key, account_email text not null references accounts(email), amount numeric(10,2),"
                    + " shipping_name text, placed_at timestamptz, details jsonb)");
            s.execute("insert into accounts select g, case when g % 50 = 0 then 'o''brien+' || g || '@exämple.com' else 'user' || g || '@example.org' end,"
                    + " case when g % 7 = 0 then 'Zoë \"Q\" O''Hara ' || g else 'Person ' || g end, case when g % 5 = 0 then null else '+1-555-' || lpad(g::text, 4, '0') end,"
                    + " ('10.0.' || (g / 256) || '.' || (g % 256))::inet, case when g % 3 = 0 then '' else 'note ' || g end, (array['free','pro','team'])[1 + g % 3],"
                    + " 'contact' || g || '@corp.example', timestamptz '2026-01-01' + g * interval '1 hour' from generate_series(1, 600) g");
            s.execute("insert into orders (account_email, amount, shipping_name, placed_at, details) select a.email, (g % 1000) / 10.0, a.full_name,"
                    + " timestamptz '2026-02-01' + g * interval '1 minute', jsonb_build_object('gift', g % 2 = 0)"
                    + " from generate_series(1, 3000) g join accounts a on a.id = 1 + g % 600");
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        key = dir.resolve("key.txt");
        String recipient = AppDatabases.ageKey(key);
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(1), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false, List.of(), BackupsConfig.KEEP_NEWEST);
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b);
        bunker = Bunker.open(config, Clock.systemUTC());
        backups = Engine.backups(bunker);
        backup = backups.take().run("app", "dump");
    }

    @AfterEach
    void tearDown() throws Exception {
        backups.close();
        bunker.close();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("drop database if exists " + target + " with (force)");
        }
    }

    CloneDatabase.Result clone(String scrub, boolean replace, boolean check) throws Exception {
        Path f = dir.resolve("scrub-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, scrub);
        RestoreBackup restore = new RestoreBackup(bunker.config().backups(), bunker.stores(), null, bunker.config().dataDir());
        return new CloneDatabase(restore, bunker.config().dataDir(), null, Clock.systemUTC())
                .run("latest", "app", "postgresql://postgres@127.0.0.1:5432/" + target, ScrubRules.load(f), AgeCrypto.readIdentities(key), replace, check, progress);
    }

    @Test
    void aScrubbedCloneKeepsNoOriginalValueKeepsJoinsAndLeavesTheRestByteIdentical() throws Exception {
        CloneDatabase.Result r = clone(SCRUB, false, false);
        assertThat(r.target()).isEqualTo(target);
        assertThat(lines).anyMatch(l -> l.contains("public.orders.account_email references public.accounts.email"));
        String src = app.url();
        String dst = "jdbc:postgresql://127.0.0.1:5432/" + target;
        // Row by row (accounts by their kept id, orders by theirs): no scrubbed value is the original.
        for (String col : List.of("email", "full_name", "phone", "contact_email")) {
            assertThat(count(dst, "select count(*) from accounts")).isEqualTo(600);
            assertThat(sameAsSource(src, dst, "accounts", "id", col)).as(col + " values left as they were").isZero();
        }
        assertThat(sameAsSource(src, dst, "orders", "id", "shipping_name")).isZero();
        assertThat(sameAsSource(src, dst, "orders", "id", "account_email")).isZero();
        assertThat(count(dst, "select count(*) from accounts where ip is not null")).isZero();
        assertThat(count(dst, "select count(*) from accounts where note <> 'redacted'")).isZero();
        assertThat(count(dst, "select count(*) from accounts where phone is null")).as("NULL stays NULL").isEqualTo(count(src, "select count(*) from accounts where phone is null"));
        assertThat(count(dst, "select count(*) from accounts where contact_email like '%@example.com'")).isEqualTo(600);
        // No original e-mail anywhere in the clone's column, not just row by row.
        assertThat(overlap(src, dst, "select email from accounts")).isZero();
        // Shuffled: the same values, moved between rows.
        assertThat(column(dst, "select tier from accounts order by tier")).isEqualTo(column(src, "select tier from accounts order by tier"));
        // Joins still match: every order finds its account, with the same number of orders per account as in production.
        assertThat(column(dst, "select a.id || ':' || count(o.id) from accounts a left join orders o on o.account_email = a.email group by a.id order by a.id"))
                .isEqualTo(column(src, "select a.id || ':' || count(o.id) from accounts a left join orders o on o.account_email = a.email group by a.id order by a.id"));
        // Unscrubbed columns are byte-identical.
        for (String q : List.of("select md5(string_agg(id || '|' || created_at, ',' order by id)) from accounts",
                "select md5(string_agg(id || '|' || amount || '|' || placed_at, ',' order by id)) from orders")) {
            assertThat(column(dst, q)).isEqualTo(column(src, q));
        }
        // The constraints came back after the scrub, and validated.
        assertThat(count(dst, "select count(*) from pg_constraint where contype = 'f' and conrelid = 'orders'::regclass")).isEqualTo(1);
        // What was done is recorded in the clone, with no original value or key.
        assertThat(column(dst, "select table_name || '.' || column_name || ':' || rule || ':' || survivors from bunker_scrub.columns order by 1"))
                .containsExactly("accounts.contact_email:fake-email:0", "accounts.email:hash:0", "accounts.full_name:fake-name:0", "accounts.ip:null:0",
                        "accounts.note:constant:0", "accounts.phone:fake-phone:0", "accounts.tier:shuffle:0", "orders.account_email:hash:0",
                        "orders.details:constant:0", "orders.shipping_name:fake-name:0");
        assertThat(count(dst, "select count(*) from orders where details <> '{}'::jsonb")).isZero();
        assertThat(count(dst, "select count(*) from bunker_scrub.columns where rows_sampled = 0 and column_name <> 'ip'")).isZero();
        assertThat(privateDatabasesLeft()).isZero();
        // Everyone may connect to the finished clone.
        assertThat(count("jdbc:postgresql://127.0.0.1:5432/postgres", "select count(*) from pg_database where datname = '" + target
                + "' and has_database_privilege('public', oid, 'connect')")).isEqualTo(1);
    }

    @Test
    void anUnlistedPersonalLookingColumnFailsTheCloneAndChangesNothing() throws Exception {
        String partial = SCRUB.replace("  public.accounts.phone: fake-phone\n", "");
        assertThatThrownBy(() -> clone(partial, false, false)).isInstanceOf(ScrubException.class)
                .hasMessageContaining("look personal").hasMessageContaining("public.accounts.phone");
        assertThat(count("jdbc:postgresql://127.0.0.1:5432/postgres", "select count(*) from pg_database where datname = '" + target + "'")).isZero();
        assertThat(privateDatabasesLeft()).isZero();
        CloneDatabase.Result check = clone(partial, false, true);
        assertThat(check.plan().uncovered()).extracting(Object::toString).containsExactly("public.accounts.phone");
        assertThat(privateDatabasesLeft()).isZero();
        // Marked keep, it is covered.
        assertThat(clone(partial + "  public.accounts.phone: keep\n", false, true).plan().uncovered()).isEmpty();
    }

    @Test
    void aCloneThatFailsMidwayLeavesTheOldCopyAsItWas() throws Exception {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("create database " + target);
        }
        execute("jdbc:postgresql://127.0.0.1:5432/" + target, "create table yesterdays_copy (x int); insert into yesterdays_copy values (42)");
        assertThatThrownBy(() -> clone(SCRUB, false, false)).hasMessageContaining("pass --replace");
        // contact_email is unique: a constant breaks its unique index after the scrub, at post-data.
        String breaking = SCRUB.replace("public.accounts.contact_email: fake-email", "public.accounts.contact_email: {constant: \"same@example.com\"}");
        assertThatThrownBy(() -> clone(breaking, true, false)).hasMessageContaining("contact_email");
        assertThat(count("jdbc:postgresql://127.0.0.1:5432/" + target, "select x from yesterdays_copy")).isEqualTo(42);
        assertThat(privateDatabasesLeft()).isZero();
        // Then a good one replaces it.
        clone(SCRUB, true, false);
        assertThat(count("jdbc:postgresql://127.0.0.1:5432/" + target, "select count(*) from pg_tables where tablename = 'yesterdays_copy'")).isZero();
    }

    @Test
    void hostileOrCarelessScrubFilesAreRefusedBeforeAnythingIsVisible() throws Exception {
        assertThatThrownBy(() -> clone("columns:\n  public.accounts.\"email; drop table accounts\": hash\n" + SCRUB.substring(SCRUB.indexOf('\n') + 1), false, false))
                .hasMessageContaining("does not exist in the backup");
        assertThatThrownBy(() -> clone(SCRUB + "  public.accounts.id: hash\n", false, false)).hasMessageContaining("integer");
        assertThatThrownBy(() -> clone(SCRUB + "  public.accounts.created_at: null\n", false, false)).hasMessageContaining("NOT NULL");
        assertThatThrownBy(() -> clone(SCRUB.replace("hash  ", "scramble"), false, false)).hasMessageContaining("unknown rule");
        assertThatThrownBy(() -> clone(SCRUB + "  public.accounts.email: fake-name\n", false, false)).isInstanceOf(ScrubException.class)
                .hasMessageContaining("Duplicate field 'public.accounts.email'");
        assertThatThrownBy(() -> clone(SCRUB.replace("public.orders.shipping_name: fake-name", "public.orders.shipping_name: fake-name\n  public.orders.account_email: fake-email"), false, false))
                .hasMessageContaining("give both the same rule");
        assertThatThrownBy(() -> clone(SCRUB.replace("public.accounts.tier: shuffle", "public.accounts.tier: {constant: \"pro\"}"), false, false))
                .hasMessageContaining("the constant is the original value of 200 row(s)");
        Path keyFile = dir.resolve("hash.key");
        Files.write(keyFile, new byte[32]);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> clone("hash-key-file: " + keyFile + "\n" + SCRUB, false, false)).hasMessageContaining("chmod 600");
        assertThat(count("jdbc:postgresql://127.0.0.1:5432/postgres", "select count(*) from pg_database where datname = '" + target + "'")).isZero();
        assertThat(privateDatabasesLeft()).isZero();
        // The command line: exit 2 with the reason.
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "columns:\n  public.accounts.email: scramble\n");
        Path cfg = dir.resolve("bunker.yaml");
        Files.writeString(cfg, "data-dir: " + dir.resolve("cli") + "\nstores:\n  vault: {type: local, path: " + dir.resolve("v") + "}\n"
                + "replication: {primary: vault, targets: []}\n" + "backups: {recipients: [" + AppDatabases.ageKey(dir.resolve("k2")) + "], stores: [vault],"
                + " sources: {app: {url: \"" + app.url() + "\"}}}\n");
        assertThat(BunkerCommand.run("db", "clone", "--config", cfg.toString(), "--source", "app", "--target", "postgresql://postgres@127.0.0.1/" + target,
                "--scrub", bad.toString(), "--identity", key.toString())).isEqualTo(2);
    }

    @Test
    void aStableHashKeyGivesTheSameHashesInEveryClone() throws Exception {
        Path keyFile = dir.resolve("hash.key");
        Files.write(keyFile, "0123456789abcdef0123456789abcdef".getBytes());
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        clone("hash-key-file: " + keyFile + "\n" + SCRUB, false, false);
        List<String> first = column("jdbc:postgresql://127.0.0.1:5432/" + target, "select id || email from accounts order by id");
        clone("hash-key-file: " + keyFile + "\n" + SCRUB, true, false);
        assertThat(column("jdbc:postgresql://127.0.0.1:5432/" + target, "select id || email from accounts order by id")).isEqualTo(first);
    }

    // --- helpers

    static Connection admin() throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", null);
    }

    long privateDatabasesLeft() throws Exception {
        return count("jdbc:postgresql://127.0.0.1:5432/postgres", "select count(*) from pg_database where datname like '" + target + "_bunker_clone_%'");
    }

    /** Rows of {@code table} (matched by {@code id}) whose {@code col} is the same, non-null, in both. */
    static long sameAsSource(String src, String dst, String table, String id, String col) throws Exception {
        Map<String, String> before = new HashMap<>();
        for (String row : column(src, "select " + id + " || chr(1) || " + col + " from " + table + " where " + col + " is not null")) {
            String[] p = row.split("\u0001", 2);
            before.put(p[0], p[1]);
        }
        long same = 0;
        for (String row : column(dst, "select " + id + " || chr(1) || " + col + " from " + table + " where " + col + " is not null")) {
            String[] p = row.split("\u0001", 2);
            if (p[1].equals(before.get(p[0]))) same++;
        }
        return same;
    }

    static long overlap(String src, String dst, String query) throws Exception {
        List<String> before = column(src, query);
        return column(dst, query).stream().filter(before::contains).count();
    }

    static List<String> column(String url, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, "postgres", null); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    static long count(String url, String sql) throws Exception {
        return Long.parseLong(column(url, sql).get(0));
    }

    static void execute(String url, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", null); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
