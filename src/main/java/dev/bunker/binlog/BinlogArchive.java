package dev.bunker.binlog;

import dev.bunker.backup.ManifestTrust;
import dev.bunker.pitr.SignedJson;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The stored binary log of one source in one store: its chunks and markers, their signatures checked, and how far they reach without a gap. */
public final class BinlogArchive {
    private BinlogArchive() {}

    /** Trusted chunks and markers in file and byte order, and what was refused with why. */
    public record Listed(List<BinlogChunk> chunks, List<String> refused) {}

    /** Where the stored binary log ends without a gap from its first chunk from {@code fromFile} on: the file and byte, and whether that file is whole. */
    public record End(String file, long to, boolean rotated) {}

    /** Every trusted chunk and marker of {@code source} in {@code store} from {@code fromFile} on (null: all). */
    public static Listed list(Store store, String source, ManifestTrust trust, String fromFile) throws IOException {
        String prefix = BinlogChunk.prefix(source);
        String after = fromFile == null ? null : prefix + fromFile + "/"; // '/' sorts before the digits of a chunk's name
        List<BinlogChunk> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        do {
            ListPage page = store.list(prefix, after, 1000);
            for (ObjectInfo o : page.objects()) {
                if (!o.key().endsWith(".json")) continue;
                byte[] meta;
                try (InputStream in = store.get(o.key())) {
                    meta = in.readNBytes(64 * 1024);
                }
                SignedJson.Opened<BinlogChunk> opened = SignedJson.open(meta, trust, BinlogChunk.class, "binary log metadata");
                BinlogChunk c = opened.value();
                if (c == null) {
                    refused.add(o.key() + ": " + opened.problem());
                } else if (!c.source().equals(source) || !BinlogChunk.isFileName(c.file()) || c.to() < c.from() || !c.metaKey().equals(o.key())) {
                    refused.add(o.key() + ": its metadata names another place (" + c.source() + ", " + c.file() + ")");
                } else {
                    out.add(c);
                }
            }
            after = page.nextStartAfter();
        } while (after != null);
        out.sort(Comparator.comparingLong((BinlogChunk c) -> BinlogChunk.sequence(c.file())).thenComparingLong(BinlogChunk::from)
                .thenComparingLong(BinlogChunk::to).thenComparing(BinlogChunk::receivedAt));
        return new Listed(out, refused);
    }

    /**
     * Where the chunks reach without a gap, starting at byte {@code fromPos} of {@code fromFile} (null: at the first chunk's
     * start): each next chunk starts where the last ended, or at byte 0 of the next file after a rotation. Null: nothing
     * stored covers the start.
     */
    public static End end(List<BinlogChunk> chunks, String fromFile, long fromPos) {
        String file = fromFile;
        long at = fromPos;
        boolean rotated = false;
        boolean covered = false;
        for (BinlogChunk c : chunks) { // in file and byte order
            if (c.isMarker()) {
                if (c.rotated() && c.file().equals(file) && c.from() == at) rotated = true; // the file ended here (the server crashed)
                continue;
            }
            if (file == null) {
                file = c.file();
                at = c.from();
            }
            if (rotated) {
                if (!c.file().equals(BinlogChunk.next(file)) || c.from() != 0) continue;
                file = c.file();
                at = 0;
                rotated = false;
            }
            if (!c.file().equals(file) || c.from() > at || c.to() < at) continue;
            covered = true;
            if (c.to() > at || c.rotated()) {
                at = c.to();
                rotated = c.rotated();
            }
        }
        return covered ? new End(file, at, rotated) : null;
    }
}
