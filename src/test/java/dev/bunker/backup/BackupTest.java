package dev.bunker.backup;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockableStore;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups of a real PostgreSQL with the system pg_dump/pg_restore, encrypted with age, into real
 * stores; restored with Bunker and by hand with the standard age and zstd CLIs.
 */
@Timeout(180)
class BackupTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    final Map<String, FaultyStore> faulty = new HashMap<>();
    DatabaseConfig app;
    String role;
    Path key;
    String recipient;
    Bunker bunker;
    Backups backups;

    @BeforeEach
    void setUp() throws Exception {
        app = TestDatabase.fresh();
        role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table users (id serial primary key, email text not null, created_at timestamptz not null default now())");
            s.execute("create table events (id bigserial primary key, user_id int references users, payload jsonb, created_at timestamptz not null)");
            s.execute("insert into users (email) select 'user' || g || '@example.com' from generate_series(1, 2000) g");
            s.execute("insert into events (user_id, payload, created_at) select 1 + g % 2000, jsonb_build_object('n', g, 'tag', md5(g::text)), "
                    + "timestamptz '2026-01-01' + g * interval '1 minute' from generate_series(1, 20000) g");
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        key = dir.resolve("key.txt");
        Process p = new ProcessBuilder("age-keygen", "-o", key.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        recipient = Files.readAllLines(key).stream().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow().substring(14);
        open(backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null));
    }

    BackupsConfig backupsConfig(Duration keep, Duration lock, Path pgBin) {
        return backupsConfig(keep, lock, pgBin, BackupsConfig.KEEP_NEWEST);
    }

    BackupsConfig backupsConfig(Duration keep, Duration lock, Path pgBin, int keepNewest) {
        return new BackupsConfig(List.of(recipient), List.of("vault", "shelter"),
                Map.of("app", new BackupSource("app", app.url(), role, null)),
                new BackupKind("dump", Duration.ofDays(1), keep, lock, 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), pgBin, false, List.of(), keepNewest);
    }

    void open(BackupsConfig b) {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
        BunkerConfig config = TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b);
        bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        backups = Engine.backups(bunker);
    }

    @AfterEach
    void tearDown() {
        if (backups != null) backups.close();
        if (bunker != null) bunker.close();
    }

    /** Per table: row count and an md5 of every row in key order. */
    static Map<String, String> fingerprint(String url) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url, "postgres", null); Statement s = c.createStatement()) {
            for (String t : List.of("users", "events")) {
                try (ResultSet rs = s.executeQuery("select count(*) || ':' || md5(coalesce(string_agg(x::text, '|' order by x.id), '')) from " + t + " x")) {
                    rs.next();
                    out.put(t, rs.getString(1));
                }
            }
        }
        return out;
    }

    long catalogRows() throws Exception {
        try (Connection c = bunker.database().connection(); ResultSet rs = c.createStatement().executeQuery("select count(*) from backups")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    Path vaultFile(Manifest m) {
        return ((LocalStore) faulty.get("vault").real()).pathOf(m.dataKey());
    }

    @Test
    void aBackupIsListedLockedAndRestoresIntoAFreshDatabaseWithIdenticalContents() throws Exception {
        Manifest m = backups.take().run("app", "dump");
        assertThat(m.rowCounts()).containsEntry("public.users", 2000L).containsEntry("public.events", 20000L);
        assertThat(m.recipients()).containsExactly(recipient);
        assertThat(m.serverVersion()).contains("PostgreSQL 15");
        assertThat(backups.catalog().list()).extracting(e -> e.manifest().id()).containsExactly(m.id());
        for (String store : List.of("vault", "shelter")) {
            assertThat(((LockableStore) bunker.store(store)).lockState(m.dataKey()).retainUntil()).isAfter(clock.instant().plus(Duration.ofDays(24)));
            assertThat(bunker.store(store).stat(m.manifestKey())).isPresent();
        }
        assertThat(Files.readAllBytes(vaultFile(m))).startsWith("age-encryption.org/v1".getBytes(StandardCharsets.US_ASCII));

        DatabaseConfig target = TestDatabase.fresh();
        RestoreBackup.Result r = backups.restore().run(backups.restore().find("latest", null), target.url() + "?user=postgres",
                AgeCrypto.readIdentities(key), false, line -> {});
        assertThat(r.manifest().id()).isEqualTo(m.id());
        // The target runs on this machine: pg_restore found its socket (the server's unix_socket_directories) and used it.
        assertThat(r.via()).startsWith("unix socket /");
        assertThat(fingerprint(target.url())).isEqualTo(fingerprint(app.url()));

        // Restoring again into the now non-empty database is refused unless asked to clean.
        assertThatThrownBy(() -> backups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {}))
                .hasMessageContaining("is not empty").hasMessageContaining("--clean");
        backups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), true, line -> {});
        assertThat(fingerprint(target.url())).isEqualTo(fingerprint(app.url()));
    }

    @Test
    void aRestoreOnAFullDiskBlamesThisMachinesDiskNotTheBackupAndLoadsNothing() throws Exception {
        Manifest m = backups.take().run("app", "dump");
        Path small = dir.resolve("small-disk");
        try (var full = dev.bunker.testing.Mounts.smallDisk(small, "512k")) { // far less than the decompressed dump
            DatabaseConfig target = TestDatabase.fresh();
            RestoreBackup onSmallDisk = new RestoreBackup(backups.config(), bunker.stores(), null, small);
            // Before: "could not be read whole from any backup store ...: vault: the copy is corrupt or truncated (No space left on device)".
            assertThatThrownBy(() -> onSmallDisk.run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {}))
                    .hasMessageContaining("unable to write").hasMessageContaining("No space left on device")
                    .hasMessageContaining("the copy in store 'vault' was not at fault").hasMessageContaining("--data-dir")
                    .hasMessageNotContaining("corrupt").hasMessageNotContaining("shelter");
            try (Connection c = DriverManager.getConnection(target.url(), "postgres", null);
                 ResultSet rs = c.createStatement().executeQuery(RestoreBackup.USER_TABLES)) {
                rs.next();
                assertThat(rs.getLong(1)).isZero(); // nothing was loaded
            }
            try (var left = Files.walk(small)) {
                assertThat(left.filter(Files::isRegularFile).toList()).isEmpty(); // the partial dump is gone
            }
            // The same backup restores where there is room: the copy was never at fault.
            backups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {});
            assertThat(fingerprint(target.url())).isEqualTo(fingerprint(app.url()));
        }
    }

    @Test
    void theSameBackupRestoresByHandWithTheAgeAndZstdCliAndPgRestore() throws Exception {
        Manifest m = backups.take().run("app", "dump");
        DatabaseConfig target = TestDatabase.fresh();
        Path plain = dir.resolve("by-hand.dump");
        // The README's "Restore by hand" pipe, run as written there.
        Process decrypt = new ProcessBuilder("bash", "-o", "pipefail", "-c",
                "age -d -i " + key + " < " + vaultFile(m) + " | zstd -d -q > " + plain).redirectErrorStream(true).start();
        assertThat(decrypt.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(decrypt.exitValue()).as(new String(decrypt.getInputStream().readAllBytes())).isZero();
        Conninfo t = Conninfo.parse(target.url() + "?user=postgres", target.user(), null);
        Process restore = new ProcessBuilder("pg_restore", "-j", "2", "--no-owner", "--no-privileges", "-d", t.libpqUrl(), plain.toString())
                .redirectErrorStream(true).start();
        String out = new String(restore.getInputStream().readAllBytes());
        assertThat(restore.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(restore.exitValue()).as(out).isZero();
        assertThat(fingerprint(target.url())).isEqualTo(fingerprint(app.url()));
    }

    @Test
    void anInterruptedBackupLeavesNoBackupBehind() throws Exception {
        Path fakeBin = dir.resolve("fakebin");
        Files.createDirectories(fakeBin);
        Path fake = fakeBin.resolve("pg_dump");
        Files.writeString(fake, "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'pg_dump (PostgreSQL) 15.99'; exit 0; }\n"
                + "head -c 3000000 /dev/urandom\necho 'pg_dump: error: connection lost' >&2\nexit 1\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        open(backupsConfig(Duration.ofDays(30), Duration.ofDays(25), fakeBin));
        assertThatThrownBy(() -> backups.take().run("app", "dump")).hasMessageContaining("pg_dump failed (exit code 1)")
                .hasMessageContaining("connection lost");
        assertThat(catalogRows()).isZero();
        for (String store : List.of("vault", "shelter")) assertThat(bunker.store(store).list(Manifest.ROOT, null, 10).objects()).isEmpty();
    }

    @Test
    void pruneRemovesExpiredBackupsButNeverBeforeTheirLockEnds() throws Exception {
        // keep (1d) shorter than the lock (3d): config validation refuses this; prune must still honour the lock.
        open(backupsConfig(Duration.ofDays(1), Duration.ofDays(3), null, 1));
        Manifest m = backups.take().run("app", "dump");
        clock.advance(Duration.ofHours(1));
        Manifest newer = backups.take().run("app", "dump"); // the newest is always kept (keep-newest 1 here)
        clock.advance(Duration.ofDays(2));
        PruneBackups.Report locked = backups.prune().run(false);
        assertThat(locked.lockedStill()).containsExactly(m.id());
        assertThat(locked.removed()).isEmpty();
        assertThat(bunker.store("vault").stat(m.dataKey())).isPresent();
        clock.advance(Duration.ofDays(2));
        assertThat(backups.prune().run(true).removed()).containsExactly(m.id()); // dry run
        assertThat(bunker.store("vault").stat(m.dataKey())).isPresent();
        PruneBackups.Report r = backups.prune().run(false);
        assertThat(r.removed()).containsExactly(m.id());
        assertThat(r.kept()).singleElement().asString().startsWith(newer.id());
        assertThat(catalogRows()).isEqualTo(1);
        for (String store : List.of("vault", "shelter")) {
            assertThat(bunker.store(store).list(Manifest.ROOT, null, 10).objects()).extracting(o -> o.key())
                    .containsExactlyInAnyOrder(newer.dataKey(), newer.manifestKey(), newer.signatureKey());
        }
    }

    @Test
    void theCatalogIsRebuiltFromTheManifestsInAStoreAlone() throws Exception {
        Manifest m = backups.take().run("app", "snapshot");
        try (Connection c = bunker.database().connection()) {
            c.createStatement().execute("truncate backups"); // Bunker's database lost its catalog
        }
        // Restore finds it in the stores even without a catalog.
        assertThat(new RestoreBackup(backups.config(), bunker.stores(), null, bunker.config().dataDir()).find("latest", "app").id()).isEqualTo(m.id());
        assertThat(backups.catalog().rebuildFrom(bunker.store("shelter"), ManifestTrust.of(List.of(), bunker.config().dataDir())).trusted()).hasSize(1);
        assertThat(backups.catalog().list()).extracting(e -> e.manifest().sha256()).containsExactly(m.sha256());
        assertThat(m.retainUntil()).isNull(); // snapshots keep no lock by default
    }

    @Test
    void bunkerBacksUpItsOwnEmbeddedDatabaseWithAReadOnlyRole() throws Exception {
        BunkerConfig base = TestConfigs.threeLocalStores(dir.resolve("self"));
        BunkerConfig embedded = new BunkerConfig(base.source(), base.dataDir(), base.listen(), new DatabaseConfig(null, null, null, 4),
                base.stores(), base.replication(), base.api(), base.lifecycle(),
                new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("bunker", new BackupSource("bunker", "self", null, null)),
                        backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null).dump(),
                        backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null).snapshot(), null, false));
        try (Bunker own = Bunker.open(embedded, clock); Backups ownBackups = Engine.backups(own)) {
            Manifest m = ownBackups.take().run("bunker", "dump");
            assertThat(m.rowCounts()).containsKeys("bunker.objects", "bunker.backups", "bunker.flyway_schema_history");
            DatabaseConfig target = TestDatabase.fresh();
            ownBackups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {});
            try (Connection c = DriverManager.getConnection(target.url(), "postgres", null);
                 ResultSet rs = c.createStatement().executeQuery("select count(*) from bunker.flyway_schema_history")) {
                rs.next();
                assertThat(rs.getLong(1)).isPositive();
            }
        }
        // With an external database, "self" is refused with what to do instead.
        BackupsConfig selfOnExternal = new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("bunker", new BackupSource("bunker", "self", null, null)),
                backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null).dump(), backupsConfig(Duration.ofDays(30), null, null).snapshot(), null, false);
        open(selfOnExternal);
        assertThatThrownBy(() -> backups.take().run("bunker", "dump")).hasMessageContaining("works only with the embedded database")
                .hasMessageContaining("pg_read_all_data");
    }

    @Test
    void badInputsGiveClearErrorsAndChangeNothing() throws Exception {
        // pg_dump missing
        open(backupsConfig(Duration.ofDays(30), Duration.ofDays(25), Files.createDirectories(dir.resolve("empty-bin"))));
        assertThatThrownBy(() -> backups.take().run("app", "dump")).hasMessageContaining("pg_dump for PostgreSQL 15 not found")
                .hasMessageContaining("postgresql-client-15");
        // unreachable source
        BackupsConfig unreachable = new BackupsConfig(List.of(recipient), List.of("vault"),
                Map.of("app", new BackupSource("app", "postgresql://127.0.0.1:1/app", role, null)),
                backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null).dump(), backupsConfig(Duration.ofDays(30), null, null).snapshot(), null, false);
        open(unreachable);
        assertThatThrownBy(() -> backups.take().run("app", "dump")).hasMessageContaining("unable to connect to backup source 'app'");
        // a superuser source is refused
        BackupsConfig superuser = new BackupsConfig(List.of(recipient), List.of("vault"), Map.of("app", new BackupSource("app", app.url(), "postgres", null)),
                backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null).dump(), backupsConfig(Duration.ofDays(30), null, null).snapshot(), null, false);
        open(superuser);
        assertThatThrownBy(() -> backups.take().run("app", "dump")).hasMessageContaining("a superuser").hasMessageContaining("pg_read_all_data");
        assertThat(catalogRows()).isZero();

        open(backupsConfig(Duration.ofDays(30), Duration.ofDays(25), null));
        Manifest m = backups.take().run("app", "dump");
        DatabaseConfig target = TestDatabase.fresh();
        // wrong key
        Path other = dir.resolve("other.txt");
        new ProcessBuilder("age-keygen", "-o", other.toString()).start().waitFor(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> backups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(other), false, line -> {}))
                .hasMessageContaining("unable to decrypt");
        // corrupted ciphertext (in both stores)
        for (String store : List.of("vault", "shelter")) {
            Path f = ((LocalStore) faulty.get(store).real()).pathOf(m.dataKey());
            byte[] b = Files.readAllBytes(f);
            b[b.length / 2] ^= 0x20;
            Files.write(f, b);
        }
        assertThatThrownBy(() -> backups.restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {}))
                .hasMessageContaining("vault: the copy is corrupt").hasMessageContaining("shelter: the copy is corrupt")
                .hasMessageContaining("nothing was restored");
        try (Connection c = DriverManager.getConnection(target.url() + "?user=postgres", "postgres", null);
             ResultSet rs = c.createStatement().executeQuery(RestoreBackup.USER_TABLES)) {
            rs.next();
            assertThat(rs.getLong(1)).as("the target stays empty").isZero();
        }
        assertThatThrownBy(() -> AgeCrypto.readIdentities(dir.resolve("nope.txt"))).isInstanceOf(IOException.class).hasMessageContaining("not found");
    }
}
