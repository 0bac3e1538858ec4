package dev.bunker.binlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.backup.Manifest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How far stored binary log reaches: rotations, a server's shutdown or crash at a file's end, overlaps after restarts, gaps. */
class BinlogArchiveTest {
    static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");

    static BinlogChunk chunk(String file, long from, long to, int lastSecond, boolean ends) {
        return new BinlogChunk("shop", file, from, to, T0, T0.plusSeconds(lastSecond), ends, T0.plusSeconds(lastSecond), 10, "x", null);
    }

    static BinlogChunk endMarker(String file, long at) {
        return new BinlogChunk("shop", file, at, at, null, null, true, T0, 0, null, null);
    }

    static Manifest dump(String file, long pos) {
        return new Manifest("shop-dump-20261204T100000Z", "shop", "dump", T0, T0, "10.11", "mariadb-dump", "k", 1, "x", List.of(), null, T0,
                Map.of(), null, Manifest.MARIADB, new dev.bunker.mariadb.BinlogPosition(file, pos, null));
    }

    static byte[] event(int second, int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(second).put((byte) type).putInt(1).putInt(length).putInt(0).putShort((short) 0);
        return b.array();
    }

    @Test
    void aManifestOfAnEarlierBuildWithoutWarningsStillReads() throws Exception {
        String json = new String(dump("binlog.000001", 4).toJson(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(json).contains("\"warnings\" : [ ]");
        Manifest old = Manifest.parse(json.replace(",\n  \"warnings\" : [ ]", "").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(old.warnings()).isEmpty();
        assertThat(old.binlog().position()).isEqualTo(4);
    }

    @Test
    void eventsAreWholeAndAStopOrRotateEndsTheFile() throws Exception {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(BinlogEvents.MAGIC);
        f.write(event(100, 15, 40));
        f.write(event(101, 2, 60));
        byte[] partial = event(102, 3, 30);
        f.write(partial, 0, 25); // the last event still being written
        byte[] bytes = f.toByteArray();
        BinlogEvents.Scan s = BinlogEvents.scan(bytes, bytes.length, 0, "binlog.000001");
        assertThat(s.end()).isEqualTo(104);
        assertThat(s.events()).isEqualTo(2);
        assertThat(s.rotated()).isFalse();
        assertThat(s.lastEventAt()).isEqualTo(Instant.ofEpochSecond(101));
        byte[] stop = event(102, BinlogEvents.STOP, 30);
        assertThat(BinlogEvents.scan(stop, stop.length, 104, "binlog.000001").rotated()).as("a shutdown ends the file").isTrue();
        byte[] garbage = new byte[40];
        garbage[9] = 5; // a length shorter than a header
        assertThatThrownBy(() -> BinlogEvents.scan(garbage, garbage.length, 104, "binlog.000001")).hasMessageContaining("no valid event at byte 104");
        assertThatThrownBy(() -> BinlogEvents.scan(new byte[8], 8, 0, "binlog.000001")).hasMessageContaining("magic number");
    }

    @Test
    void theStoredLogReachesAcrossRotationsCrashesAndOverlapsButNotGaps() throws Exception {
        List<BinlogChunk> chunks = List.of(chunk("binlog.000001", 0, 100, 1, false), chunk("binlog.000001", 100, 200, 2, false),
                chunk("binlog.000001", 100, 250, 3, false), // stored again after a restart, further
                endMarker("binlog.000001", 250), // the server crashed: the file ends without an event saying so
                chunk("binlog.000002", 0, 80, 5, true), chunk("binlog.000003", 0, 90, 8, false));
        assertThat(BinlogArchive.end(chunks, null, 0)).isEqualTo(new BinlogArchive.End("binlog.000003", 90, false));
        assertThat(BinlogRestore.reaching(chunks, dump("binlog.000001", 150), T0.plusSeconds(6))).extracting(c -> c.file() + ":" + c.from() + "-" + c.to())
                .containsExactly("binlog.000001:0-100", "binlog.000001:100-200", "binlog.000001:100-250", "binlog.000002:0-80", "binlog.000003:0-90");
        assertThatThrownBy(() -> BinlogRestore.reaching(chunks, dump("binlog.000001", 150), T0.plusSeconds(60)))
                .hasMessageContaining("reaches " + T0.plusSeconds(8)).hasMessageContaining("binlog.000003 byte 90");

        List<BinlogChunk> gap = List.of(chunk("binlog.000001", 0, 100, 1, false), chunk("binlog.000001", 120, 200, 9, false));
        assertThat(BinlogArchive.end(gap, null, 0)).isEqualTo(new BinlogArchive.End("binlog.000001", 100, false));
        assertThatThrownBy(() -> BinlogRestore.reaching(gap, dump("binlog.000001", 50), T0.plusSeconds(5))).hasMessageContaining("byte 100");
        assertThatThrownBy(() -> BinlogRestore.reaching(List.of(chunk("binlog.000001", 40, 100, 9, false)), dump("binlog.000001", 50), T0.plusSeconds(5)))
                .hasMessageContaining("from byte 0").hasMessageContaining("is not stored");
    }
}
