package dev.bunker.pitr;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.SigningKey;
import dev.bunker.store.ObjectKeys;
import java.io.IOException;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * A piece of one WAL segment as Bunker keeps it: the bytes from {@code start} to {@code end} (LSNs, both in the segment
 * named {@code segment}), compressed with zstd and encrypted with age in the data object, described by a signed
 * metadata object beside it. Chunks of a segment follow each other, so the segment file is their bytes in order
 * (zeros after the last one, as in a partial segment PostgreSQL writes itself). {@code receivedAt}: when Bunker had
 * every byte of it (an upper bound of when its bytes were written: a stream catching up receives old WAL).
 * {@code completeThrough}: a time on the source's clock by which the source had written no WAL past {@code end}, so
 * every transaction committed by then is in this chunk or an earlier one (null: not known, as when the source wrote on).
 * A marker ({@code start == end}, no data) records only that, for a source that went quiet. {@code systemId}: the
 * cluster's system identifier; each cluster's WAL has a folder of its own, so a source name given to a new cluster never
 * mixes its WAL with the old one's.
 */
public record WalChunk(String source, String systemId, int timeline, long segmentSize, String segment, String start, String end,
                       Instant receivedAt, long size, String sha256, Instant completeThrough) {
    /** WAL lives beside the backups in Bunker's reserved key space, under a root of its own (listing backups never walks it). */
    public static final String ROOT = ObjectKeys.RESERVED_PREFIX + "wal/";
    public static final String DATA_SUFFIX = ".zst.age";
    public static final String META_SUFFIX = ".json";
    private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
    private static final Pattern NAME = Pattern.compile("[0-9A-F]{24}\\.[0-9A-F]{8}-[0-9A-F]{8}\\.[0-9A-F]{11}");
    /** A key of a chunk's data or metadata, after the source's prefix: segment, range and upload (what {@link #name} writes). */
    static final Pattern KEY = Pattern.compile("([0-9A-F]{24})\\.([0-9A-F]{8})-([0-9A-F]{8})\\.[0-9A-F]{11}("
            + Pattern.quote(DATA_SUFFIX) + "|" + Pattern.quote(META_SUFFIX) + ")");

    /** The chunk of {@code source}'s WAL from {@code start} to {@code end} (end exclusive, in the same segment). */
    public static WalChunk of(String source, String systemId, int timeline, long segmentSize, long start, long end, Instant receivedAt, long size,
                              String sha256, Instant completeThrough) {
        return new WalChunk(source, systemId, timeline, segmentSize, Wal.segmentName(timeline, start, segmentSize), Wal.formatLsn(start), Wal.formatLsn(end),
                receivedAt, size, sha256, completeThrough);
    }

    /** A marker: the source had written nothing past {@code at} by {@code completeThrough}. */
    public static WalChunk marker(String source, String systemId, int timeline, long segmentSize, long at, Instant receivedAt, Instant completeThrough) {
        return of(source, systemId, timeline, segmentSize, at, at, receivedAt, 0, null, completeThrough);
    }

    @JsonIgnore public boolean isMarker() { return size == 0; }

    /** Where every cluster's WAL of {@code source} lies. */
    public static String prefix(String source) {
        return ROOT + source + "/";
    }

    /** Where the WAL of the cluster {@code systemId} of {@code source} lies. */
    public static String prefix(String source, String systemId) {
        return prefix(source) + systemId + "/";
    }

    @JsonIgnore public long startLsn() { return Wal.parseLsn(start); }

    @JsonIgnore public long endLsn() { return Wal.parseLsn(end); }

    /**
     * {@code SEGMENT.FROM-TO.UPLOAD}: the segment file's name, the byte offsets within it, and when this copy of the range
     * arrived (epoch milliseconds): a range stored again (after a restart) gets keys of its own, since a locked key cannot
     * be written twice.
     */
    @JsonIgnore
    public String name() {
        long base = Wal.segmentStart(segment, segmentSize);
        return String.format("%s.%08X-%08X.%011X", segment, startLsn() - base, endLsn() - base, receivedAt.toEpochMilli());
    }

    @JsonIgnore public String dataKey() { return prefix(source, systemId) + name() + DATA_SUFFIX; }

    @JsonIgnore public String metaKey() { return prefix(source, systemId) + name() + META_SUFFIX; }

    /** The metadata object: the signature line of the JSON that follows it. */
    public byte[] signedMetadata(SigningKey key) throws IOException {
        return SignedJson.sign(this, key);
    }

    /** What a metadata object says, once its signature and layout are checked: a chunk, or why it is not trusted. */
    public record Read(WalChunk chunk, String problem) {}

    public static Read read(String metaKey, byte[] metadata, ManifestTrust trust) {
        SignedJson.Opened<WalChunk> opened = SignedJson.open(metadata, trust, WalChunk.class, "a WAL chunk's metadata");
        if (opened.value() == null) return new Read(null, opened.problem());
        WalChunk c = opened.value();
        String layout = c.layoutProblem();
        if (layout != null) return new Read(null, layout);
        if (!metaKey.equals(c.metaKey())) return new Read(null, "it lies at " + metaKey + " but names itself " + c.metaKey());
        return new Read(c, null);
    }

    /** Null if the fields describe a chunk Bunker could have written (within one segment, keys of its own source), else why not. */
    String layoutProblem() {
        if (source == null || !SOURCE.matcher(source).matches()) return "its source \"" + source + "\" is not a source name";
        if (systemId == null || !systemId.matches("[0-9]{1,20}")) return "its system identifier \"" + systemId + "\" is not one";
        if (segmentSize < (1 << 20) || segmentSize > (1L << 30) || Long.bitCount(segmentSize) != 1) return "its segment size " + segmentSize + " is not one PostgreSQL uses";
        if (receivedAt == null || size < 0 || (size > 0 && (sha256 == null || !sha256.matches("[0-9a-f]{64}")))) return "its metadata is incomplete";
        try {
            long s = startLsn();
            long e = endLsn();
            if (e < s || (e == s) != (size == 0)) return "it ends (" + end + ") before it starts (" + start + ")";
            if (!Wal.segmentName(timeline, s, segmentSize).equals(segment) || (e > s && (e - 1) / segmentSize != s / segmentSize)) {
                return "its range " + start + " to " + end + " is not within segment " + segment;
            }
            if (!NAME.matcher(name()).matches()) return "its name " + name() + " is not SEGMENT.FROM-TO.UPLOAD";
        } catch (IllegalArgumentException ex) {
            return ex.getMessage();
        }
        if (size == 0 && completeThrough == null) return "it is a marker that marks nothing";
        return null;
    }

    @Override
    public String toString() {
        return name() + " (" + source + ", " + start + " to " + end + ", received " + receivedAt + ")";
    }
}
