package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.AlertsConfig;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.config.BunkerConfig.DrillsConfig;
import dev.bunker.drill.DrillRuns;
import dev.bunker.store.LocalStore;
import dev.bunker.store.PutOptions;
import dev.bunker.store.Store;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nobody but the backup job can make a backup count: a forged manifest planted in a store (newer, unsigned
 * or signed by another key, or a real one altered) is never chosen by {@code latest} or a drill, never
 * cataloged, and prune never deletes what it cannot prove it wrote. Restores fail over to the next store,
 * and prune keeps the last good backups however long backups have been failing.
 */
@Timeout(180)
class BackupTrustTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    Path key;
    String recipient;
    AppDatabases.App app;
    Bunker bunker;
    Engine engine;

    @BeforeEach
    void setUp() throws Exception {
        app = AppDatabases.create(200, 2000);
        key = dir.resolve("key.txt");
        recipient = AppDatabases.ageKey(key);
    }

    @AfterEach
    void tearDown() {
        if (engine != null) engine.close();
        if (bunker != null) bunker.close();
    }

    BunkerConfig config(int keepNewest, List<String> signers) {
        BackupsConfig b = new BackupsConfig(List.of(recipient), List.of("vault", "shelter"), Map.of("app", new BackupSource("app", app.db().url(), app.role(), null)),
                new BackupKind("dump", Duration.ofDays(1), Duration.ofDays(7), Duration.ofDays(5), 3),
                new BackupKind("snapshot", Duration.ofHours(6), Duration.ofDays(3), null, 1), null, false, signers, keepNewest);
        DrillsConfig d = new DrillsConfig(Duration.ofDays(1), key, null, null, Duration.ofDays(2), List.of(), Duration.ofDays(1), 10);
        return TestConfigs.threeLocalStores(dir.resolve("data")).withBackups(b).withDrills(d, AlertsConfig.DEFAULTS);
    }

    void open(BunkerConfig config) {
        bunker = Bunker.open(config, clock);
        engine = Engine.on(bunker);
    }

    Store raw(String store) {
        return dev.bunker.testing.Unwrapped.of(bunker.store(store));
    }

    /** What someone who can write to the stores (a leaked credential, a local process) plants: a newer "backup" of their own. */
    Manifest plantForgery(Manifest real, String forgedId, byte[] signature) throws Exception {
        Manifest forged = new Manifest(forgedId, real.source(), real.kind(), real.startedAt().plus(Duration.ofDays(400)),
                real.finishedAt().plus(Duration.ofDays(400)), real.serverVersion(), real.format(), Manifest.keyPrefix(real.source()) + forgedId
                + Manifest.DATA_SUFFIX, real.size(), real.sha256(), real.recipients(), null, real.keepUntil().plus(Duration.ofDays(400)),
                Map.of("public.users", 1L));
        byte[] json = forged.toJson();
        for (String s : List.of("vault", "shelter")) {
            byte[] data;
            try (var in = raw(s).get(real.dataKey())) {
                data = in.readAllBytes();
            }
            raw(s).put(forged.dataKey(), new ByteArrayInputStream(data), PutOptions.ofSize(data.length));
            raw(s).put(forged.manifestKey(), new ByteArrayInputStream(json), PutOptions.ofSize(json.length));
            if (signature != null) raw(s).put(forged.signatureKey(), new ByteArrayInputStream(signature), PutOptions.ofSize(signature.length));
        }
        return forged;
    }

    @Test
    void forgedManifestsAreNeverChosenByLatestOrADrillNeverCatalogedAndNeverPruned() throws Exception {
        open(config(1, List.of()));
        Manifest real = engine.backups().take().run("app", "dump");
        Path keyFile = bunker.config().dataDir().resolve(SigningKey.FILE);
        assertThat(Files.getPosixFilePermissions(keyFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        // Unsigned, signed by an attacker's own key, and a real manifest altered after signing.
        Manifest unsigned = plantForgery(real, "app-dump-20991231T000000Z", null);
        SigningKey attacker = SigningKey.loadOrCreate(Files.createDirectories(dir.resolve("attacker")));
        Manifest otherKey = plantForgery(real, "app-dump-20991230T000000Z", attacker.sign("whatever".getBytes(StandardCharsets.UTF_8)));
        byte[] realSignature;
        try (var in = raw("vault").get(real.signatureKey())) {
            realSignature = in.readAllBytes();
        }
        Manifest altered = plantForgery(real, "app-dump-20991229T000000Z", realSignature);

        RestoreBackup restore = new RestoreBackup(bunker.config().backups(), bunker.stores(), null, bunker.config().dataDir());
        assertThat(restore.find("latest", "app").id()).isEqualTo(real.id());
        assertThatThrownBy(() -> restore.find(unsigned.id(), null)).hasMessageContaining("no signature");
        BackupCatalog.Found found = BackupCatalog.manifestsIn(bunker.store("vault"), ManifestTrust.of(List.of(), bunker.config().dataDir()));
        assertThat(found.trusted()).extracting(Manifest::id).containsExactly(real.id());
        assertThat(String.join("\n", found.refused())).contains(unsigned.id() + ".manifest.json: it has no signature")
                .contains(otherKey.id() + ".manifest.json: it is signed by key").contains("which is not trusted here")
                .contains(altered.id() + ".manifest.json: its signature does not match");

        DrillRuns.Run drill = engine.drills().database().run(null);
        assertThat(drill.ok()).as(drill.log()).isTrue();
        assertThat(drill.backupId()).isEqualTo(real.id());

        engine.backups().catalog().rebuildFrom(bunker.store("vault"), ManifestTrust.of(List.of(), bunker.config().dataDir()));
        assertThat(engine.backups().catalog().list()).extracting(e -> e.manifest().id()).containsExactly(real.id());
        clock.advance(Duration.ofDays(30));
        PruneBackups.Report pruned = engine.backups().prune().run(false);
        assertThat(pruned.orphansRemoved()).isEmpty();
        for (Manifest f : List.of(unsigned, otherKey, altered)) {
            assertThat(raw("vault").stat(f.dataKey())).as("prune leaves what it did not write: " + f.id()).isPresent();
        }
    }

    @Test
    void anotherMachineTrustsTheBackupsOnlyWithTheSigningKeyInItsConfig() throws Exception {
        open(config(3, List.of()));
        Manifest real = engine.backups().take().run("app", "snapshot");
        String publicKey = SigningKey.loadOrCreate(bunker.config().dataDir()).publicKey();
        Path otherDataDir = Files.createDirectories(dir.resolve("drill-host"));
        BackupsConfig withoutSigners = bunker.config().backups();
        assertThatThrownBy(() -> new RestoreBackup(withoutSigners, bunker.stores(), null, otherDataDir).find("latest", "app"))
                .hasMessageContaining("no signing key is trusted here").hasMessageContaining("backups.signers");
        BackupsConfig withSigner = config(3, List.of(publicKey)).backups();
        assertThat(new RestoreBackup(withSigner, bunker.stores(), null, otherDataDir).find("latest", "app").id()).isEqualTo(real.id());
    }

    @Test
    void restoreFailsOverToTheNextBackupStoreWhenTheFirstCopyIsCorrupt() throws Exception {
        open(config(3, List.of()));
        Manifest m = engine.backups().take().run("app", "dump");
        Path vaultCopy = ((LocalStore) raw("vault")).pathOf(m.dataKey());
        byte[] b = Files.readAllBytes(vaultCopy);
        b[b.length / 3] ^= 0x44;
        Files.write(vaultCopy, b);
        var target = TestDatabase.fresh();
        RestoreBackup.Result r = engine.backups().restore().run(m, target.url() + "?user=postgres", AgeCrypto.readIdentities(key), false, line -> {});
        assertThat(r.store()).isEqualTo("shelter");
        DrillRuns.Run drill = engine.drills().database().run(null);
        assertThat(drill.ok()).as(drill.log()).isTrue();
        assertThat(drill.log()).contains("from store 'shelter'");
    }

    @Test
    void pruneKeepsTheNewestBackupsAndTheLastDrillProvenOneAfterBackupsHaveFailedForLongerThanKeep() throws Exception {
        open(config(2, List.of()));
        Manifest proven = engine.backups().take().run("app", "dump");
        assertThat(engine.drills().database().run(null).ok()).isTrue();
        clock.advance(Duration.ofDays(1));
        Manifest second = engine.backups().take().run("app", "dump");
        clock.advance(Duration.ofDays(1));
        Manifest third = engine.backups().take().run("app", "dump");
        clock.advance(Duration.ofDays(1));
        Manifest fourth = engine.backups().take().run("app", "dump");
        // Then backups fail for 40 days (keep is 7): prune must not take the last good ones with it.
        clock.advance(Duration.ofDays(40));
        PruneBackups.Report r = engine.backups().prune().run(false);
        assertThat(r.removed()).containsExactly(second.id());
        assertThat(engine.backups().catalog().list()).extracting(e -> e.manifest().id()).containsExactly(fourth.id(), third.id(), proven.id());
        assertThat(bunker.store("vault").stat(proven.dataKey())).isPresent();
    }
}
