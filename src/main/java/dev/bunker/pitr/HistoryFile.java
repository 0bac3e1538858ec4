package dev.bunker.pitr;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A timeline history file as Bunker keeps it, beside the WAL of its cluster: {@code 00000002.history.UPLOAD.zst.age}
 * (compressed and encrypted as WAL chunks are, for the by-hand restore_command) and a signed metadata object holding its
 * text (what Bunker's restore reads: a history file says only where timelines switched).
 */
public record HistoryFile(String source, String systemId, int timeline, Instant receivedAt, String content) {
    private static final Pattern KEY = Pattern.compile("([0-9A-F]{8})\\.history\\.[0-9A-F]{11}(" + Pattern.quote(WalChunk.DATA_SUFFIX) + "|"
            + Pattern.quote(WalChunk.META_SUFFIX) + ")");

    /** {@code 0000000T.history.UPLOAD}: a history stored again (by another stream start) gets keys of its own. */
    @JsonIgnore
    public String name() {
        return String.format("%s.%011X", TimelineHistory.fileName(timeline), receivedAt.toEpochMilli());
    }

    @JsonIgnore public String dataKey() { return WalChunk.prefix(source, systemId) + name() + WalChunk.DATA_SUFFIX; }

    @JsonIgnore public String metaKey() { return WalChunk.prefix(source, systemId) + name() + WalChunk.META_SUFFIX; }

    /** Whether {@code rest} (a key after a cluster's prefix) is a history file's, which listings of WAL chunks pass over. */
    static boolean isKey(String rest) {
        return KEY.matcher(rest).matches();
    }

    /**
     * The first trusted history of {@code timeline} of the cluster {@code systemId} of {@code source} in {@code store}, parsed
     * (empty: none stored). Metadata that is not trusted, or names another file, is passed over.
     */
    public static Optional<Stored> find(Store store, String source, String systemId, int timeline, ManifestTrust trust) throws IOException {
        String prefix = WalChunk.prefix(source, systemId) + TimelineHistory.fileName(timeline) + ".";
        String after = null;
        do {
            ListPage page = store.list(prefix, after, 100);
            for (ObjectInfo o : page.objects()) {
                if (!o.key().endsWith(WalChunk.META_SUFFIX)) continue;
                byte[] meta;
                try (InputStream in = store.get(o.key())) {
                    meta = in.readNBytes(TimelineHistory.MAX_BYTES + 4096);
                }
                SignedJson.Opened<HistoryFile> opened = SignedJson.open(meta, trust, HistoryFile.class, "a timeline history's metadata");
                HistoryFile h = opened.value();
                if (h == null || h.receivedAt() == null || h.content() == null || !o.key().equals(h.metaKey()) || h.timeline() != timeline) continue;
                try {
                    return Optional.of(new Stored(h, TimelineHistory.parse(timeline, h.content())));
                } catch (PitrException e) {
                    // signed but unreadable: not one Bunker stored
                }
            }
            after = page.nextStartAfter();
        } while (after != null);
        return Optional.empty();
    }

    /** A history file found in a store, and what it says. */
    public record Stored(HistoryFile file, TimelineHistory history) {}
}
