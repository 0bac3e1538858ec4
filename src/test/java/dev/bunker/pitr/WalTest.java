package dev.bunker.pitr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

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

    static WalChunk chunk(long start, long end, int minute) {
        return WalChunk.of("app", 1, SEG, start, end, Instant.parse("2026-12-04T10:00:00Z").plusSeconds(60L * minute), 100, "a".repeat(64), null);
    }

    @Test
    void chunkNamesHoldTheirSegmentAndRangeAndCoverageStopsAtAGap() {
        WalChunk c = chunk(0x3000000L, 0x3000148L, 0);
        assertThat(c.name()).isEqualTo("000000010000000000000003.00000000-00000148");
        assertThat(c.dataKey()).isEqualTo(".bunker/wal/app/000000010000000000000003.00000000-00000148.zst.age");
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
}
