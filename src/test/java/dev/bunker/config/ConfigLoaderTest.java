package dev.bunker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ConfigLoaderTest {
    @TempDir Path dir;

    static final String FULL = """
            data-dir: ./data
            listen: 127.0.0.1:9000
            database: {url: "jdbc:postgresql://127.0.0.1:5432/bunker", user: bunker, password: "${DB_PW}"}
            stores:
              primary: {type: local, path: ./data/stores/primary, tier: hot}
              vault:   {type: local, path: ./data/stores/vault, tier: hot, lock: {mode: compliance, period: 21d}}
              shelter: {type: s3, endpoint: "https://s3.example.com", region: eu-west-1, bucket: shelter, access-key: "${AK}", secret-key: "${SK}", tier: cold, storage-class: GLACIER}
            replication: {primary: primary, targets: [vault, shelter], workers: 8}
            """;

    static final Map<String, String> ENV = Map.of("DB_PW", "s3cret-db", "AK", "AKIAEXAMPLE", "SK", "very-secret");

    BunkerConfig load(String yaml) throws IOException {
        return load(dir, yaml);
    }

    ConfigException fails(String yaml) {
        return fails(dir, yaml);
    }

    /** {@code yaml} written to {@code dir}/bunker.yaml and loaded with {@link #ENV}. */
    static BunkerConfig load(Path dir, String yaml) throws IOException {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, ConfigLoader.Overrides.NONE, ENV::get);
    }

    /** The error loading {@code yaml} gives, which names the file first. */
    static ConfigException fails(Path dir, String yaml) {
        try {
            load(dir, yaml);
        } catch (ConfigException e) {
            assertThat(e.getMessage()).startsWith(dir.resolve("bunker.yaml").toString() + ": ");
            return e;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    @Test
    void theDocumentedShapeLoadsWithEnvironmentSubstituted() throws IOException {
        BunkerConfig c = load(FULL);
        assertThat(c.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(c.listen()).isEqualTo(new HostPort("127.0.0.1", 9000));
        assertThat(c.database().password()).isEqualTo("s3cret-db");
        assertThat(c.store("vault").lock().period()).isEqualTo(Duration.ofDays(21));
        StoreConfig.S3 shelter = (StoreConfig.S3) c.store("shelter");
        assertThat(shelter.accessKey()).isEqualTo("AKIAEXAMPLE");
        assertThat(shelter.storageClass()).isEqualTo("GLACIER");
        assertThat(shelter.tier()).isEqualTo(StoreConfig.Tier.COLD);
        assertThat(shelter.pathStyle()).isTrue();
        assertThat(((StoreConfig.Local) c.store("primary")).path()).isEqualTo(dir.resolve("data/stores/primary"));
        assertThat(c.replication().targets()).containsExactly("vault", "shelter");
    }

    @Test
    void noFileMeansTheEmbeddedDefaults() {
        BunkerConfig c = ConfigLoader.load(null, new ConfigLoader.Overrides(dir.resolve("d"), null), k -> null);
        assertThat(c.database().embedded()).isTrue();
        assertThat(c.stores().keySet()).containsExactly("primary", "vault", "shelter");
        assertThat(c.store("vault").lock().period()).isEqualTo(Duration.ofDays(21));
        assertThat(c.store("shelter").tier()).isEqualTo(StoreConfig.Tier.COLD);
        assertThat(((StoreConfig.Local) c.store("primary")).path()).isEqualTo(dir.resolve("d/stores/primary"));
        assertThat(c.replication().primary()).isEqualTo("primary");
        assertThat(c.replication().targets()).containsExactly("vault", "shelter");
        assertThat(c.listen().port()).isEqualTo(8080);
    }

    @Test
    void commandLineOverridesWinOverTheFile() throws IOException {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, FULL);
        BunkerConfig c = ConfigLoader.load(f, new ConfigLoader.Overrides(Path.of("/tmp/elsewhere"), "0.0.0.0:7000"), ENV::get);
        assertThat(c.dataDir()).isEqualTo(Path.of("/tmp/elsewhere"));
        assertThat(c.listen()).isEqualTo(new HostPort("0.0.0.0", 7000));
    }

    @Test
    void durationsShrinkToSecondsAndRoundTrip() {
        assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("6h")).isEqualTo(Duration.ofHours(6));
        assertThat(Durations.parse("30d")).isEqualTo(Duration.ofDays(30));
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        for (String s : new String[] {"1s", "2m", "3h", "21d", "250ms"}) assertThat(Durations.format(Durations.parse(s))).isEqualTo(s);
        assertThatThrownBy(() -> Durations.parse("21 days")).hasMessageContaining("not a duration");
    }

    @Test
    void anUnknownKeyIsNamedWithItsPath() {
        ConfigException e = fails(FULL.replace("tier: hot, lock:", "tier: hot, lok: 1, lock:"));
        assertThat(e.getMessage()).contains("stores.vault.lok: unknown key");
    }

    @Test
    void batchingDefaultsFollowTheWorkersAndBadValuesAreNamed() throws IOException {
        BunkerConfig.Batching defaults = load(FULL).replication().batching();
        assertThat(defaults).isEqualTo(new BunkerConfig.Batching(8, 256, Duration.ofMillis(10)));
        BunkerConfig.Batching set = load(FULL.replace("workers: 8}", "workers: 8, batch: {claim: 16, commit-copies: 64, commit-wait: 20ms}}"))
                .replication().batching();
        assertThat(set).isEqualTo(new BunkerConfig.Batching(16, 64, Duration.ofMillis(20)));
        assertThat(fails(FULL.replace("workers: 8}", "workers: 8, batch: {commit-wait: 2s}}")).getMessage())
                .contains("replication.batch.commit-wait: must be at most 1s");
        assertThat(fails(FULL.replace("workers: 8}", "workers: 8, batch: {claim: 0}}")).getMessage())
                .contains("replication.batch.claim: 0 is out of range");
        assertThat(fails(FULL.replace("workers: 8}", "workers: 8, batch: {commit: 5}}")).getMessage())
                .contains("replication.batch.commit: unknown key");
    }

    @Test
    void anUnknownTopLevelKeyIsNamed() {
        assertThat(fails(FULL + "replicaton: {}\n").getMessage()).contains("replicaton: unknown key; expected one of");
    }

    @Test
    void aBadDurationIsNamedWithTheExpectedForm() {
        ConfigException e = fails(FULL.replace("period: 21d", "period: 21x"));
        assertThat(e.getMessage()).contains("stores.vault.lock.period: \"21x\" is not a duration; expected a whole number followed by");
    }

    @Test
    void aMissingRequiredFieldIsNamed() {
        assertThat(fails(FULL.replace("bucket: shelter, ", "")).getMessage()).contains("stores.shelter.bucket: missing; expected the bucket name");
        assertThat(fails(FULL.replace("path: ./data/stores/primary, ", "")).getMessage()).contains("stores.primary.path: missing");
        assertThat(fails(FULL.replace("{type: local, path: ./data/stores/vault", "{path: ./data/stores/vault")).getMessage())
                .contains("stores.vault.type: missing; expected the store type: local or s3");
    }

    @Test
    void anUnknownStoreReferencedByNameIsNamed() {
        assertThat(fails(FULL.replace("targets: [vault, shelter]", "targets: [vault, bunkr]")).getMessage())
                .contains("replication.targets[1]: unknown store \"bunkr\"; expected one of [primary, vault, shelter]");
        assertThat(fails(FULL.replace("primary: primary, targets", "primary: nope, targets")).getMessage())
                .contains("replication.primary: unknown store \"nope\"");
    }

    @Test
    void anUnsetEnvironmentVariableIsNamed() {
        ConfigException e = fails(FULL.replace("${DB_PW}", "${NOT_SET_ANYWHERE}"));
        assertThat(e.getMessage()).contains("database.password: environment variable NOT_SET_ANYWHERE is not set");
    }

    @Test
    void otherMistakesAreNamedToo() {
        assertThat(fails(FULL.replace("mode: compliance", "mode: governance")).getMessage()).contains("stores.vault.lock.mode:");
        assertThat(fails(FULL.replace("type: s3", "type: gcs")).getMessage()).contains("stores.shelter.type: \"gcs\" is not a store type");
        assertThat(fails(FULL.replace("storage-class: GLACIER", "storage-class: ICE")).getMessage()).contains("stores.shelter.storage-class:");
        assertThat(fails(FULL.replace("workers: 8", "workers: many")).getMessage()).contains("replication.workers: \"many\" is not a whole number");
        assertThat(fails(FULL.replace("listen: 127.0.0.1:9000", "listen: localhost")).getMessage()).contains("listen: \"localhost\" is not an address");
        assertThat(fails(FULL.replace("tier: cold", "tier: lukewarm")).getMessage()).contains("stores.shelter.tier: \"lukewarm\" is not one of hot, cold");
        assertThat(fails(FULL.replace("url: \"jdbc:postgresql", "url: \"jdbc:mysql")).getMessage()).contains("database.url:");
        assertThat(fails("stores: [a, b]\n").getMessage()).contains("stores: expected a mapping");
        assertThat(fails("stores: {primary: {type: local, path: x}}\napi: {tokens: {app: {scope: write, sha256: abc}}}\n").getMessage())
                .contains("api.tokens.app.sha256: expected 64 hex digits");
        assertThat(fails("a: [\n").getMessage()).contains("not valid YAML at line");
    }

    @Test
    void lifecyclePoliciesAndCleanupCredentialsAreReadAndChecked() throws IOException {
        BunkerConfig c = load(FULL + "lifecycle: {trash: 7d, cleanup-after: 30s, brake: 2.5%, every: 10s}\n");
        assertThat(c.lifecycle().trash()).isEqualTo(Duration.ofDays(7));
        assertThat(c.lifecycle().cleanupAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.lifecycle().brake()).isEqualTo(0.025);
        assertThat(load(FULL).lifecycle()).isEqualTo(BunkerConfig.LifecycleConfig.DEFAULTS);
        assertThat(fails(FULL + "lifecycle: {brake: 5}\n").getMessage()).contains("lifecycle.brake: \"5\" is not a share");
        assertThat(fails(FULL + "lifecycle: {trash: forever}\n").getMessage()).contains("lifecycle.trash:");
        assertThat(fails(FULL.replace("secret-key: \"${SK}\",", "secret-key: \"${SK}\", cleanup-access-key: x,")).getMessage())
                .contains("stores.shelter.cleanup-secret-key: missing");

        BunkerConfig p = load(FULL.replace("workers: 8}", "workers: 8, policies: {free: {prefix: free/, targets: [vault]}, pro: {prefix: free/pro/, targets: [vault, shelter]}}}"));
        assertThat(p.replication().targetsFor("free/a.jpg")).containsExactly("vault");
        assertThat(p.replication().targetsFor("free/pro/a.jpg")).containsExactly("vault", "shelter");
        assertThat(p.replication().targetsFor("paid/a.jpg")).containsExactly("vault", "shelter");
        assertThat(fails(FULL.replace("workers: 8}", "workers: 8, policies: {free: {prefix: free/, targets: [vlt]}}}")).getMessage())
                .contains("replication.policies.free.targets[0]: unknown store \"vlt\"");
    }

    @Test
    void baseBackupsTakeTheirDefaultsAndRefuseASchedule() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {app: {url: \"postgresql://backup@127.0.0.1:5432/app\"}}";
        assertThat(load(FULL + backups + "}\n").backups().kind("base")).isEqualTo(BunkerConfig.BackupsConfig.DEFAULT_BASE);
        assertThat(load(FULL + backups + ", base: {keep: 30d, lock: 20d}}\n").backups().base())
                .isEqualTo(new BunkerConfig.BackupKind("base", Duration.ofDays(1), Duration.ofDays(30), Duration.ofDays(20), 3));
        assertThat(fails(FULL + backups + ", base: {every: 1d}}\n").getMessage()).contains("backups.base.every: base backups are taken on demand");
        assertThat(fails(FULL + backups + ", base: {keep: 1d, lock: 2d}}\n").getMessage()).contains("backups.base.keep");
        assertThat(load(FULL + backups + "}\n").backups().base().zstdWorkers()).isEqualTo(1);
        assertThat(load(FULL + backups + ", base: {zstd-workers: 0}, dump: {zstd-workers: 4}}\n").backups())
                .satisfies(b -> assertThat(b.base().zstdWorkers()).isZero()).satisfies(b -> assertThat(b.dump().zstdWorkers()).isEqualTo(4));
        assertThat(fails(FULL + backups + ", base: {zstd-workers: 17}}\n").getMessage()).contains("backups.base.zstd-workers");
    }

    @Test
    void pitrTakesItsDefaultsAndRefusesWhatItCannotDo() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {App-1: {url: \"postgresql://backup@127.0.0.1:5432/app\"PITR}}}\n";
        assertThat(load(FULL + backups.replace("PITR", "")).backups().sources().get("App-1").pitr()).isNull();
        assertThat(load(FULL + backups.replace("PITR", ", pitr: {}")).backups().sources().get("App-1").pitr())
                .isEqualTo(new BunkerConfig.Pitr("bunker_app_1", Duration.ofSeconds(4)));
        assertThat(load(FULL + backups.replace("PITR", ", pitr: {wal: stream, flush-every: 1s, slot: mine}")).backups().sources().get("App-1").pitr())
                .isEqualTo(new BunkerConfig.Pitr("mine", Duration.ofSeconds(1)));
        assertThat(load(FULL + backups.replace("PITR", ", pitr: {wal: archive, base-every: 6h}")).backups().sources().get("App-1").pitr())
                .isEqualTo(BunkerConfig.Pitr.archived(Duration.ofHours(6)));
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {wal: archive, slot: mine}")).getMessage())
                .contains("backups.sources.App-1.pitr.slot: applies to wal: stream only");
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {wal: ship}")).getMessage()).contains("pitr.wal").contains("expected stream");
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {flush-every: 50ms}")).getMessage()).contains("pitr.flush-every");
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {slot: \"Bad-Slot\"}")).getMessage()).contains("pitr.slot").contains("Bad-Slot");
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {every: 1d}")).getMessage()).contains("pitr.every");
        assertThat(load(FULL + backups.replace("PITR", ", pitr: {base-every: 12h}")).backups().every("App-1", "base")).isEqualTo(Duration.ofHours(12));
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {base-every: 10m}")).getMessage()).contains("pitr.base-every");
        assertThat(fails(FULL + backups.replace("PITR", ", pitr: {keep: 30m}")).getMessage()).contains("pitr.keep").contains("at least 1h");
        assertThat(fails(FULL + backups.replace("postgresql://backup@127.0.0.1:5432/app", "self").replace("PITR", ", pitr: {}")).getMessage())
                .contains("pitr").contains("embedded database is not supported");
    }

    @Test
    void aMariaDbSourceIsAcceptedAndWhatItCannotDoIsRefused() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {shop: {url: \"URL\", password: \"s3cret\"EXTRA}}MORE}\n";
        for (String url : java.util.List.of("mariadb://backup@127.0.0.1:3306/shop", "mysql://backup@db/shop", "jdbc:mariadb://db:3307/shop")) {
            assertThat(load(FULL + backups.replace("URL", url).replace("EXTRA", "").replace("MORE", "")).backups().sources().get("shop").url()).isEqualTo(url);
        }
        String ok = backups.replace("URL", "mariadb://backup@127.0.0.1:3306/shop");
        assertThat(load(FULL + ok.replace("EXTRA", "").replace("MORE", ", mariadb-bin: /opt/mariadb/bin")).backups().mariaDbBin())
                .isEqualTo(java.nio.file.Path.of("/opt/mariadb/bin"));
        assertThat(load(FULL + ok.replace("EXTRA", ", binlog: {stream: true}").replace("MORE", "")).backups().sources().get("shop").binlog())
                .isEqualTo(new BunkerConfig.Binlog(Duration.ofSeconds(4), Duration.ofDays(7)));
        assertThat(load(FULL + ok.replace("EXTRA", ", binlog: {flush-every: 1s, keep: 3d}").replace("MORE", "")).backups().sources().get("shop").binlog())
                .isEqualTo(new BunkerConfig.Binlog(Duration.ofSeconds(1), Duration.ofDays(3)));
        assertThat(load(FULL + ok.replace("EXTRA", ", binlog: {stream: false}").replace("MORE", "")).backups().sources().get("shop").binlog()).isNull();
        assertThat(fails(FULL + ok.replace("EXTRA", ", binlog: {flush-every: 1h}").replace("MORE", "")).getMessage()).contains("binlog.flush-every");
        assertThat(fails(FULL + ok.replace("EXTRA", ", binlog: {keep: 10m}").replace("MORE", "")).getMessage()).contains("binlog.keep");
        assertThat(fails(FULL + ok.replace("EXTRA", ", binlog: {slot: x}").replace("MORE", "")).getMessage()).contains("binlog.slot");
        assertThat(fails(FULL + backups.replace("URL", "postgresql://b@h/app").replace("EXTRA", ", binlog: {}").replace("MORE", "")).getMessage())
                .contains("binlog: applies to MariaDB");
        assertThat(fails(FULL + ok.replace("EXTRA", ", pitr: {}").replace("MORE", "")).getMessage()).contains("backups.sources.shop.pitr");
        BunkerConfig physical = load(FULL + ok.replace("EXTRA", ", physical: {every: 12h}").replace("MORE", ""));
        assertThat(physical.backups().every("shop", "physical")).isEqualTo(Duration.ofHours(12));
        assertThat(physical.backups().every("shop", "base")).isEqualTo(Duration.ofHours(12));
        assertThat(load(FULL + ok.replace("EXTRA", "").replace("MORE", "")).backups().every("shop", "physical")).isNull();
        assertThat(fails(FULL + ok.replace("EXTRA", ", physical: {every: 10m}").replace("MORE", "")).getMessage()).contains("physical.every").contains("at least 1h");
        assertThat(fails(FULL + ok.replace("EXTRA", ", physical: {when: 1d}").replace("MORE", "")).getMessage()).contains("physical.when");
        assertThat(fails(FULL + backups.replace("URL", "postgresql://b@h/app").replace("EXTRA", ", physical: {}").replace("MORE", "")).getMessage())
                .contains("physical: applies to MariaDB");
        assertThat(fails(FULL + backups.replace("URL", "mariadb://backup:pw@127.0.0.1:3306/").replace("EXTRA", "").replace("MORE", "")).getMessage())
                .contains("backups.sources.shop.url").contains("names no database").doesNotContain(":pw@");
        assertThat(fails(FULL + ok.replace("shop: {", "\"..\": {").replace("EXTRA", "").replace("MORE", "")).getMessage())
                .contains("backups.sources...").contains("is not a source name");
        assertThat(fails(FULL + backups.replace("URL", "oracle://db/x").replace("EXTRA", "").replace("MORE", "")).getMessage())
                .contains("is not a database URL").contains("mariadb://USER@HOST:PORT/DB");
        // a raw '@' or '/' in a password: refused at load (it would have connected to 127.0.0.1), the password not shown
        for (String url : new String[] {"postgresql://b:se@cr3t@db.example.com/app", "postgresql://b:se/cr3t@db.example.com/app"}) {
            assertThat(fails(FULL + backups.replace("URL", url).replace("EXTRA", "").replace("MORE", "")).getMessage())
                    .contains("backups.sources.shop.url").contains("cannot read the host").contains("%40").doesNotContain("cr3t");
        }
        assertThat(load(FULL + backups.replace("URL", "postgresql://b:se%40cr3t@db.example.com/app").replace("EXTRA", "").replace("MORE", ""))
                .backups().sources().get("shop").url()).isEqualTo("postgresql://b:se%40cr3t@db.example.com/app");
    }

    @Test
    void aWalPushTokenServesOneSourceWithArchivedWal() throws IOException {
        String hash = "a".repeat(64);
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {app: {url: \"postgresql://backup@127.0.0.1:5432/app\", pitr: {wal: archive}}, "
                + "streamed: {url: \"postgresql://backup@127.0.0.1:5432/s\", pitr: {}}}}\n";
        BunkerConfig c = load(FULL + backups + "api: {tokens: {pg: {scope: wal-push, source: app, sha256: " + hash + "}}}\n");
        assertThat(c.api().tokens().get("pg")).isEqualTo(new BunkerConfig.TokenConfig("pg", BunkerConfig.TokenScope.WAL_PUSH, hash, "app"));
        assertThat(fails(FULL + backups + "api: {tokens: {pg: {scope: wal-push, sha256: " + hash + "}}}\n").getMessage())
                .contains("api.tokens.pg.source: missing");
        assertThat(fails(FULL + backups + "api: {tokens: {pg: {scope: wal-push, source: streamed, sha256: " + hash + "}}}\n").getMessage())
                .contains("api.tokens.pg.source").contains("not a source with pitr: {wal: archive}");
        assertThat(fails(FULL + backups + "api: {tokens: {ops: {scope: admin, source: app, sha256: " + hash + "}}}\n").getMessage())
                .contains("api.tokens.ops.source: applies to scope wal-push only");
        assertThat(BunkerConfig.TokenScope.ADMIN.allows(BunkerConfig.TokenScope.WAL_PUSH)).as("admin does not push WAL").isFalse();
        assertThat(BunkerConfig.TokenScope.WAL_PUSH.allows(BunkerConfig.TokenScope.READ)).as("a wal-push token reads nothing").isFalse();
    }

    @Test
    void anInventoryIsReadWithItsDefaultsAndChecked() throws IOException {
        String withInventory = FULL.replace("storage-class: GLACIER}", "storage-class: GLACIER, inventory: {prefix: inv/shelter/daily}}");
        StoreConfig.S3 shelter = (StoreConfig.S3) load(withInventory).stores().get("shelter");
        assertThat(shelter.inventory()).isEqualTo(new StoreConfig.Inventory("shelter", "inv/shelter/daily/", Duration.ofDays(8)));
        assertThat(((StoreConfig.S3) load(FULL).stores().get("shelter")).inventory()).isNull();
        StoreConfig.S3 elsewhere = (StoreConfig.S3) load(FULL.replace("storage-class: GLACIER}",
                "storage-class: GLACIER, inventory: {bucket: reports, prefix: a/, max-age: 2d}}")).stores().get("shelter");
        assertThat(elsewhere.inventory()).isEqualTo(new StoreConfig.Inventory("reports", "a/", Duration.ofDays(2)));
        assertThat(fails(FULL.replace("storage-class: GLACIER}", "storage-class: GLACIER, inventory: {bucket: reports}}")).getMessage())
                .contains("stores.shelter.inventory.prefix: missing");
        assertThat(fails(FULL.replace("storage-class: GLACIER}", "storage-class: GLACIER, inventory: {prefix: a/, maxage: 2d}}")).getMessage())
                .contains("stores.shelter.inventory.maxage");
    }

    @Test
    void aMissingFileIsAClearError() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), ConfigLoader.Overrides.NONE, k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.yaml: file not found");
    }

    @Test
    void theEffectiveConfigMasksEverySecret() throws IOException {
        String yaml = EffectiveConfig.toYaml(load(FULL));
        assertThat(yaml).doesNotContain("s3cret-db", "AKIAEXAMPLE", "very-secret").contains("********").contains("period: 21d");
    }

    @Test
    void theDashboardSectionHasDefaultsAndRefusesWhatMakesNoSense() throws IOException {
        assertThat(load(FULL).dashboard()).isEqualTo(BunkerConfig.DashboardConfig.DEFAULTS);
        assertThat(load(FULL + "dashboard: {sample-every: 10s, history: 7d, session: 1h, audit-every: 14d}\n").dashboard())
                .isEqualTo(new BunkerConfig.DashboardConfig(Duration.ofSeconds(10), Duration.ofDays(7), Duration.ofHours(1), Duration.ofDays(14)));
        assertThat(fails(FULL + "dashboard: {sample-every: 100ms}\n").getMessage()).contains("dashboard.sample-every").contains("1s to 1h");
        assertThat(fails(FULL + "dashboard: {history: 1h}\n").getMessage()).contains("dashboard.history").contains("at least 1d");
        assertThat(fails(FULL + "dashboard: {session: 90d}\n").getMessage()).contains("dashboard.session");
        assertThat(fails(FULL + "dashboard: {audit-every: 1h}\n").getMessage()).contains("dashboard.audit-every");
        assertThat(load(FULL + "dashboard: {audit-every: off}\n").dashboard().auditEvery()).isNull();
        assertThat(fails(FULL + "dashboard: {theme: dark}\n").getMessage()).contains("dashboard.theme");
    }

    @Test
    void scheduledExportsAreOffUnlessBothSetAndNeverGoToThePrimary() throws IOException {
        assertThat(load(FULL).exports()).isEqualTo(BunkerConfig.ExportsConfig.NONE);
        assertThat(load(FULL + "exports: {every: 1d, to: store:shelter/exports}\n").exports())
                .isEqualTo(new BunkerConfig.ExportsConfig(Duration.ofDays(1), "store:shelter/exports"));
        assertThat(load(FULL + "exports: {every: 12h, to: out/exports}\n").exports().to()).endsWith("/out/exports").startsWith("/");
        assertThat(fails(FULL + "exports: {every: 1d}\n").getMessage()).contains("exports.to").contains("missing");
        assertThat(fails(FULL + "exports: {to: /srv/x}\n").getMessage()).contains("exports.every");
        assertThat(fails(FULL + "exports: {every: 1m, to: /srv/x}\n").getMessage()).contains("at least 5m");
        assertThat(fails(FULL + "exports: {every: 1d, to: store:primary/x}\n").getMessage()).contains("replication primary");
        assertThat(fails(FULL + "exports: {every: 1d, to: store:nope/x}\n").getMessage()).contains("unknown store");
        assertThat(EffectiveConfig.toYaml(load(FULL + "exports: {every: 1d, to: store:shelter/e}\n"))).contains("every: 1d").contains("to: store:shelter/e");
    }

    @Test
    void scheduledClonesNeedABackupSourceAPostgresTargetAScrubFileAndAKey() throws IOException {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], "
                + "sources: {app: {url: \"postgresql://backup@127.0.0.1:5432/app\"}}}\n";
        String clone = "clones: {dev: {source: app, target: \"postgresql://dev:s3cret@127.0.0.1:5432/app_dev\", scrub: scrub.yaml, identity: /etc/k.txt";
        assertThat(load(FULL).clones().jobs()).isEmpty();
        BunkerConfig.CloneJob job = load(FULL + backups + clone + "}}\n").clones().jobs().get("dev");
        assertThat(job.every()).isEqualTo(Duration.ofDays(1));
        assertThat(job.scrub().isAbsolute()).as("relative to the config file").isTrue();
        assertThat(job.scrub().getFileName().toString()).isEqualTo("scrub.yaml");
        assertThat(job.toString()).doesNotContain("s3cret");
        assertThat(EffectiveConfig.toYaml(load(FULL + backups + clone + ", password: hush}}\n"))).contains("app_dev").doesNotContain("s3cret").doesNotContain("hush");
        assertThat(fails(FULL + clone + "}}\n").getMessage()).contains("clones.dev").contains("configure backups.sources first");
        assertThat(fails(FULL + backups + clone.replace("source: app", "source: nope") + "}}\n").getMessage()).contains("clones.dev.source");
        assertThat(fails(FULL + backups + clone.replace("postgresql://", "mysql://") + "}}\n").getMessage()).contains("clones.dev.target")
                .contains("PostgreSQL-only").doesNotContain("s3cret");
        assertThat(fails(FULL + backups + clone.replace(", identity: /etc/k.txt", "") + "}}\n").getMessage()).contains("clones.dev.identity");
        assertThat(fails(FULL + backups + clone + ", every: 10m}}\n").getMessage()).contains("at least 1h");
        assertThat(fails(FULL + backups + clone + ", replace: false}}\n").getMessage()).contains("clones.dev.replace");
        assertThat(fails(FULL + backups + clone.replace("dev:s3cret@127.0.0.1:5432/app_dev", "dev@localhost/app") + "}}\n").getMessage())
                .contains("clones.dev.target").contains("names the database of source");
    }
}
