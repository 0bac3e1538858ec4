package dev.bunker.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import dev.bunker.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Recovery audits: recorded newest first, a careless or hostile name or note refused with nothing recorded, from the CLI too. */
@Timeout(120)
class RecoveryAuditsTest {
    @TempDir Path dir;

    @Test
    void auditsAreRecordedAndBadOnesRefused() throws Exception {
        Path config = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        try (Bunker bunker = Bunker.open(ConfigLoader.load(config, ConfigLoader.Overrides.NONE), Clock.systemUTC())) {
            RecoveryAudits audits = new RecoveryAudits(bunker.database().dataSource());
            assertThat(audits.last()).isNull();
            audits.record(Instant.parse("2026-11-01T10:00:00Z"), "  Ada  ", "all good", null);
            audits.record(Instant.parse("2026-12-01T10:00:00Z"), "Grace", "", "ops");
            assertThat(audits.last()).isEqualTo(Instant.parse("2026-12-01T10:00:00Z"));
            assertThat(audits.recent(5)).extracting(RecoveryAudits.Audit::by).containsExactly("Grace", "Ada");
            assertThat(audits.recent(5).get(0).token()).isEqualTo("ops");
            for (String[] bad : new String[][] {{"", "x"}, {"   ", "x"}, {null, "x"}, {"x".repeat(201), ""}, {"a\u0000b", ""}, {"a\nb", ""},
                    {"ok", "n".repeat(4001)}}) {
                assertThatThrownBy(() -> audits.record(Instant.now(), bad[0], bad[1], null)).isInstanceOf(IllegalArgumentException.class);
            }
            assertThat(audits.recent(10)).hasSize(2);
        }
        // From the command line: exit 2 for a blank name, 0 for a good one; `bunker dr` then shows it.
        assertThat(BunkerCommand.run("dr", "audit", "--by", " ", "--config", config.toString())).isEqualTo(2);
        assertThat(BunkerCommand.run("dr", "audit", "--by", "Linus", "--note", "restored app into staging", "--config", config.toString())).isZero();
        try (Bunker bunker = Bunker.open(ConfigLoader.load(config, ConfigLoader.Overrides.NONE), Clock.systemUTC())) {
            assertThat(new RecoveryAudits(bunker.database().dataSource()).recent(1).get(0).note()).isEqualTo("restored app into staging");
        }
    }

    @Test
    void theAuditAlertFiresWhenNoAuditWasRecordedForItsPeriodAndClearsAfterOne() throws Exception {
        dev.bunker.testing.MutableClock clock = dev.bunker.testing.MutableClock.atNow();
        dev.bunker.config.BunkerConfig config = dev.bunker.testing.TestConfigs.threeLocalStores(dir.resolve("data"))
                .withDashboard(new dev.bunker.config.BunkerConfig.DashboardConfig(java.time.Duration.ofMinutes(1), java.time.Duration.ofDays(30),
                        java.time.Duration.ofHours(12), java.time.Duration.ofDays(1)));
        try (Bunker bunker = Bunker.open(config, clock); dev.bunker.Engine engine = dev.bunker.Engine.on(bunker)) {
            engine.alerts().evaluate();
            assertThat(engine.alerts().list()).noneMatch(a -> a.name().equals("dr-audit-stale")); // a fresh install has its period
            clock.advance(java.time.Duration.ofDays(2));
            engine.alerts().evaluate();
            assertThat(engine.alerts().list()).filteredOn(a -> a.name().equals("dr-audit-stale")).singleElement().satisfies(a -> {
                assertThat(a.firing()).isTrue();
                assertThat(a.message()).contains("no recovery audit recorded yet").contains("bunker dr audit --by NAME");
            });
            engine.audits().record(clock.instant(), "Ada", "", null);
            engine.alerts().evaluate();
            assertThat(engine.alerts().list()).filteredOn(a -> a.name().equals("dr-audit-stale")).singleElement()
                    .satisfies(a -> assertThat(a.firing()).isFalse());
            assertThat(dev.bunker.web.RecoveryRoutes.audits(engine)).containsEntry("overdue", false).containsEntry("every", "1d");
        }
    }
}
