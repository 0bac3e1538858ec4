package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.backup.ManifestTrust;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.store.Store;
import dev.bunker.testing.AppDatabases;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {
    static final long SEG = 16L << 20;

    @Test
    void lsnsAndSegmentNamesAreAsPostgresqlWritesThem() {
        assertThat(Wal.parseLsn("0/3000148")).isEqualTo(0x3000148L);
        assertThat(Wal.parseLsn("1A/FF000028")).isEqualTo((0x1AL << 32) | 0xFF000028L);
        assertThat(Wal.formatLsn((0x1AL << 32) | 0xFF000028L)).isEqualTo("1A/FF000028");
        assertThat(Wal.segmentName(1, 0x3000148L, SEG)).isEqualTo("000000010000000000000003");
        assertThat(Wal.segmentName(2, (0x1AL << 32) | 0xFF000028L, SEG)).isEqualTo("000000020000001A000000FF");
        assertThat(Wal.segmentStart("000000020000001A000000FF", SEG)).isEqualTo((0x1AL << 32) | 0xFF000000L);
        assertThat(Wal.segmentName(1, 0x40000000L, 1L << 30)).isEqualTo("000000010000000000000001");
        assertThatThrownBy(() -> Wal.parseLsn("0/XYZ")).hasMessageContaining("not a WAL position");
        assertThatThrownBy(() -> Wal.segmentStart("../../etc/passwd", SEG)).hasMessageContaining("not a WAL segment name");
    }

    @Test
    void theServersArchiverStateTellsQuietFromFailing() {
        Instant now = Instant.parse("2026-12-04T10:00:00Z");
        long seg5 = 5 * SEG;
        // Caught up right after a switch: nothing waits anywhere.
        WalArchiveWatch.State quiet = WalArchiveWatch.judge("000000010000000000000004", now.minusSeconds(300), null, null, 0, seg5, 1, SEG, 60, "on", now);
        assertThat(quiet).isEqualTo(new WalArchiveWatch.State(true, now, null));
        // Caught up with WAL in the open segment: it is at most archive_timeout old.
        assertThat(WalArchiveWatch.judge("000000010000000000000004", now, null, null, 0, seg5 + 8192, 1, SEG, 60, "on", now))
                .isEqualTo(new WalArchiveWatch.State(true, now.minusSeconds(60), null));
        // A finished segment not archived: nothing new is known to be stored.
        assertThat(WalArchiveWatch.judge("000000010000000000000003", now, null, null, 0, seg5 + 8192, 1, SEG, 60, "on", now).storedThrough()).isNull();
        WalArchiveWatch.State failing = WalArchiveWatch.judge("000000010000000000000003", now.minusSeconds(90), "000000010000000000000004",
                now.minusSeconds(5), 7, seg5 + 100, 1, SEG, 60, "on", now);
        assertThat(failing.caughtUp()).isFalse();
        assertThat(failing.problem()).contains("archive_command is failing: 7 failure(s)").contains("000000010000000000000004");
        assertThat(WalArchiveWatch.judge("000000010000000000000004", now, null, null, 0, seg5 + 8192, 1, SEG, 0, "on", now))
                .matches(s -> s.storedThrough() == null && s.problem().contains("archive_timeout is 0"));
        assertThat(WalArchiveWatch.judge(null, null, null, null, 0, seg5, 1, SEG, 60, "off", now).problem()).contains("archive_mode is off");
    }

    @Test
    void pgWaldumpReadsOnlyTheWalReceivedAboutTheTargetOrLater() {
        List<WalChunk> chunks = List.of(chunk(SEG, SEG + 100, 0), chunk(2 * SEG, 2 * SEG + 100, 5), chunk(3 * SEG, 3 * SEG + 100, 10),
                chunk(4 * SEG + 50, 4 * SEG + 100, 15));
        Instant t0 = Instant.parse("2026-12-04T10:00:00Z");
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(t0.plusSeconds(9 * 60 + 30)))).isEqualTo(3 * SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(t0.plusSeconds(10 * 60 + 4)))).as("a few seconds' slack before the target").isEqualTo(3 * SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(t0.plusSeconds(10 * 60 + 6)))).isEqualTo(4 * SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(t0.minusSeconds(600)))).isEqualTo(SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(t0.plusSeconds(3600)))).as("nothing arrived since: the last segment").isEqualTo(4 * SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.at(null))).as("the latest state").isEqualTo(4 * SEG);
        assertThat(PointInTimeRestore.scanFrom(chunks, RecoveryTarget.beforeLsn(2 * SEG + 4096))).as("to a position: its segment").isEqualTo(2 * SEG);
    }

    static WalChunk chunk(long start, long end, int minute) {
        return WalChunk.of("app", "7", 1, SEG, start, end, Instant.parse("2026-12-04T10:00:00Z").plusSeconds(60L * minute), 100, "a".repeat(64), null);
    }

    @Test
    void chunkNamesHoldTheirSegmentAndRangeAndCoverageStopsAtAGap() {
        WalChunk c = chunk(0x3000000L, 0x3000148L, 0);
        assertThat(c.name()).isEqualTo("000000010000000000000003.00000000-00000148." + String.format("%011X", c.receivedAt().toEpochMilli()));
        assertThat(c.dataKey()).isEqualTo(".bunker/wal/app/7/" + c.name() + ".zst.age");
        assertThat(WalChunk.KEY.matcher(c.name() + ".zst.age").matches()).isTrue();
        assertThat(c.layoutProblem()).isNull();
        assertThat(chunk(0x3FFFF00L, 0x4000100L, 0).layoutProblem()).contains("not within segment");
        List<WalChunk> chunks = List.of(chunk(0x3000000L, 0x3000148L, 0), chunk(0x3000000L, 0x3000100L, 5), chunk(0x3000148L, 0x3002000L, 1),
                chunk(0x3003000L, 0x3004000L, 2));
        WalArchive.Coverage cov = WalArchive.coverage(chunks, 1, 0x3000000L);
        assertThat(cov.reached()).isEqualTo(0x3002000L);
        assertThat(cov.gap()).contains("no WAL from 0/3002000 to 0/3003000");
        assertThat(cov.chunks()).hasSize(2);
        assertThat(WalArchive.coverage(chunks, 2, 0x3000000L).reached()).isEqualTo(0x3000000L);
    }

    @TempDir Path dir;

    @Test
    void aListingForATimeReadsPastWalStoredAgainAfterARestart() throws Exception {
        Store store = new LocalStore("vault", dir.resolve("vault"), Clock.systemUTC());
        BackupsConfig config = new BackupsConfig(List.of(AppDatabases.ageKey(dir.resolve("key.txt"))), List.of("vault"), Map.of(),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false);
        WalUploader uploader = new WalUploader(config, Map.of("vault", store), dir);
        Instant t0 = Instant.parse("2026-12-04T10:00:00Z");
        long seg = 0x3000000L;
        byte[] bytes = new byte[0x300];
        uploader.upload("app", "7", 1, SEG, seg, bytes, 0x100, t0, null);
        uploader.upload("app", "7", 1, SEG, seg + 0x100, bytes, 0x100, t0.plusSeconds(4), null);
        uploader.upload("app", "7", 1, SEG, seg, bytes, 0x150, t0.plusSeconds(600), null);          // stored again after a restart
        uploader.upload("app", "7", 1, SEG, seg + 0x200, bytes, 0x100, t0.plusSeconds(604), null);  // new WAL, late enough
        uploader.upload("app", "7", 1, SEG, seg + SEG, bytes, 0x100, t0.plusSeconds(608), null);    // the next segment: not needed
        ManifestTrust trust = ManifestTrust.of(List.of(), dir);
        WalArchive.Listed listed = WalArchive.list(store, "app", "7", trust, null, t0.plusSeconds(60));
        assertThat(listed.chunks()).extracting(ch -> ch.start() + "-" + ch.end())
                .containsExactly("0/3000000-0/3000100", "0/3000000-0/3000150", "0/3000100-0/3000200", "0/3000200-0/3000300");
        assertThat(WalArchive.first(store, "app", "7", trust, null)).map(WalChunk::start).contains("0/3000000");
        WalArchive.Coverage cov = WalArchive.coverage(listed.chunks(), 1, seg);
        assertThat(cov.reached()).isEqualTo(seg + 0x300);
        assertThat(cov.gap()).isNull();
        store.close();
    }

    @Test
    void aRangeStoredAgainAndRepeatedQuietMarkersGetKeysOfTheirOwnBesideLockedOnes() throws Exception {
        Store store = new LocalStore("vault", dir.resolve("vault"), Clock.systemUTC());
        BackupsConfig config = new BackupsConfig(List.of(AppDatabases.ageKey(dir.resolve("key.txt"))), List.of("vault"), Map.of(),
                BackupsConfig.NONE.dump(), BackupsConfig.NONE.snapshot(), null, false);
        WalUploader uploader = new WalUploader(config, Map.of("vault", store), dir);
        Instant t0 = Instant.now();
        byte[] bytes = new byte[0x100];
        WalChunk a = uploader.upload("app", "7", 1, SEG, 0x3000000L, bytes, 0x100, t0, null);
        WalChunk b = uploader.upload("app", "7", 1, SEG, 0x3000000L, bytes, 0x100, t0.plusMillis(1), null); // after a restart
        WalChunk m1 = uploader.mark("app", "7", 1, SEG, 0x3000100L, t0.plusSeconds(30), t0.plusSeconds(30));
        WalChunk m2 = uploader.mark("app", "7", 1, SEG, 0x3000100L, t0.plusSeconds(60), t0.plusSeconds(60)); // still quiet
        assertThat(List.of(a.dataKey(), b.dataKey(), m1.metaKey(), m2.metaKey())).doesNotHaveDuplicates();
        assertThat(((dev.bunker.store.LockableStore) store).lockState(a.dataKey()).retainUntil()).isAfter(t0.plus(java.time.Duration.ofDays(13)));
        WalArchive.Listed listed = WalArchive.list(store, "app", "7", ManifestTrust.of(List.of(), dir), null, null);
        assertThat(listed.refused()).isEmpty();
        assertThat(WalArchive.coverage(listed.chunks(), 1, 0x3000000L).completeThrough()).isEqualTo(t0.plusSeconds(60));
        store.close();
    }

    @Test
    void commitsOfPreparedTransactionsCountAsCommits() {
        for (String line : List.of(
                "rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/030176C8, prev 0/03017690, desc: COMMIT 2026-12-04 10:00:00.123456 UTC",
                "rmgr: Transaction len (rec/tot):     58/    58, tx:          0, lsn: 0/03000148, prev 0/03000110, desc: COMMIT_PREPARED 742: 2026-12-04 10:00:00.5 UTC",
                "rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/03017700, prev 0/030176C8, desc: ABORT 2026-12-04 10:00:01.000001 UTC",
                "rmgr: Transaction len (rec/tot):     58/    58, tx:          0, lsn: 0/03000190, prev 0/03000148, desc: ABORT_PREPARED 743: 2026-12-04 10:00:02 UTC")) {
            assertThat(WalFiles.COMMIT.matcher(line).find()).as(line).isTrue();
        }
        assertThat(WalFiles.COMMIT.matcher("rmgr: Transaction ... lsn: 0/03000190, prev 0/03000148, desc: PREPARE gid 1: 2026-12-04 10:00:02 UTC").find()).isFalse();
    }

    @Test
    void theRecoverySettingsReplaceAnEarlierRestoresTarget() throws Exception {
        Path data = dir.resolve("data");
        java.nio.file.Files.createDirectories(data);
        java.nio.file.Files.writeString(data.resolve("postgresql.auto.conf"), "recovery_target_time = '2020-01-01 00:00:00+00'\n");
        PointInTimeRestore.writeRecoveryConfig(data, null, null);
        String conf = java.nio.file.Files.readString(data.resolve("postgresql.auto.conf"));
        assertThat(conf.substring(conf.lastIndexOf("recovery_target_time ="))).startsWith("recovery_target_time = ''");
        assertThat(conf).contains("recovery_target_lsn = ''", "recovery_target_xid = ''", "recovery_target_name = ''", "recovery_target_action = 'promote'",
                "archive_mode = 'off'", "recovery_target_timeline = 'current'");
        assertThat(data.resolve("recovery.signal")).exists();
        PointInTimeRestore.writeRecoveryConfig(data, null, 3);
        conf = java.nio.file.Files.readString(data.resolve("postgresql.auto.conf"));
        assertThat(conf.substring(conf.lastIndexOf("recovery_target_timeline ="))).startsWith("recovery_target_timeline = '3'");
        // to a position: replay stops before the record there (inclusive off), and no time is set
        PointInTimeRestore.writeRecoveryConfig(data, RecoveryTarget.beforeLsn(0x3000190L), null);
        conf = java.nio.file.Files.readString(data.resolve("postgresql.auto.conf"));
        String last = conf.substring(conf.lastIndexOf("# bunker db restore"));
        assertThat(last).contains("recovery_target_lsn = '0/3000190'", "recovery_target_time = ''", "recovery_target_inclusive = 'off'");
        assertThat(last.indexOf("recovery_target_lsn = '0/3000190'")).as("the target set comes after every empty one").isGreaterThan(last.indexOf("recovery_target_time"));
        PointInTimeRestore.writeRecoveryConfig(data, RecoveryTarget.at(Instant.parse("2026-12-04T10:00:02Z")), null);
        conf = java.nio.file.Files.readString(data.resolve("postgresql.auto.conf"));
        last = conf.substring(conf.lastIndexOf("# bunker db restore"));
        assertThat(last).contains("recovery_target_lsn = ''", "recovery_target_time = '2026-12-04 10:00:02.000000+00'", "recovery_target_inclusive = 'on'");
    }

    @Test
    void aHistoryFileGivesThePathFromAnyAncestorInStretchesThatMeetAtSegmentStarts() throws Exception {
        long seg = 16L << 20;
        TimelineHistory h = TimelineHistory.parse(3, "1\t0/30178F8\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-12-04 10:00:00+00\n");
        assertThat(h.switches()).containsExactly(new TimelineHistory.Switch(1, 0x30178F8L), new TimelineHistory.Switch(2, 0x5000000L));
        assertThat(h.leaves(1)).isEqualTo(0x30178F8L);
        assertThat(h.leaves(3)).isEqualTo(Long.MAX_VALUE);
        assertThat(h.leaves(4)).isEqualTo(-1);
        assertThat(h.legsFrom(1, 0x2000000L, seg)).containsExactly(new TimelineHistory.Leg(1, 0x2000000L, 0x3000000L),
                new TimelineHistory.Leg(2, 0x3000000L, 0x5000000L), new TimelineHistory.Leg(3, 0x5000000L, Long.MAX_VALUE));
        // A base backup in the switch segment: its WAL is all in the newer timeline's file.
        assertThat(h.legsFrom(1, 0x3000000L, seg).get(0)).isEqualTo(new TimelineHistory.Leg(1, 0x3000000L, 0x3000000L));
        assertThat(h.legsFrom(4, 0, seg)).isEmpty();
        for (String bad : List.of("", "# only a comment\n", "1 0/3000000 x\n1 0/4000000 y\n", "3 0/3000000 x\n", "1 nowhere\n", "2 0/5 x\n1 0/6 y\n",
                "1\n", "1 0/5000000 a\n2 0/4000000 b\n")) {
            assertThatThrownBy(() -> TimelineHistory.parse(3, bad)).as(bad).isInstanceOf(PitrException.class)
                    .satisfies(e -> assertThat(((PitrException) e).callersFault()).isTrue());
        }
        assertThat(TimelineHistory.isFileName("00000002.history")).isTrue();
        assertThat(TimelineHistory.isFileName("00000001.history")).isFalse();
        assertThat(TimelineHistory.isFileName("0000000g.history")).isFalse();
        assertThat(TimelineHistory.isFileName("../00000002.history")).isFalse();
    }

    @Test
    void coverageAlongAPathUsesEachTimelinesFilesOnlyUpToWhereTheNextBegins() {
        long seg = 16L << 20;
        Instant t = Instant.parse("2026-12-04T10:00:00Z");
        // Timeline 1 holds segments 2 and 3 (3 past the switch: the old primary wrote on); timeline 2 begins with segment 3.
        WalChunk a = WalChunk.of("app", "7", 1, seg, 0x2000000L, 0x3000000L, t, 10, "0".repeat(64), null);
        WalChunk b = WalChunk.of("app", "7", 1, seg, 0x3000000L, 0x3800000L, t.plusSeconds(1), 10, "0".repeat(64), t.plusSeconds(9));
        WalChunk c = WalChunk.of("app", "7", 2, seg, 0x3000000L, 0x3400000L, t.plusSeconds(2), 10, "0".repeat(64), null);
        List<TimelineHistory.Leg> legs = List.of(new TimelineHistory.Leg(1, 0x2000000L, 0x3000000L), new TimelineHistory.Leg(2, 0x3000000L, Long.MAX_VALUE));
        WalArchive.Coverage cov = WalArchive.coverage(List.of(a, b, c), legs);
        assertThat(cov.chunks()).containsExactly(a, c);
        assertThat(cov.reached()).isEqualTo(0x3400000L);
        assertThat(cov.gap()).isNull();
        assertThat(cov.completeThrough()).as("the old timeline's marker says nothing of the new one").isNull();
        // Without timeline 1's last segment before the switch, the path has a gap where the new timeline's files begin.
        WalChunk half = WalChunk.of("app", "7", 1, seg, 0x2000000L, 0x2800000L, t, 10, "0".repeat(64), null);
        assertThat(WalArchive.coverage(List.of(half, b, c), legs).gap()).contains("timeline 1 stops at 0/2800000", "timeline 2's files begin");
    }
}
