package dev.bunker.pitr;

import com.github.luben.zstd.ZstdOutputStream;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.backup.SigningKey;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.store.LockState;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * Stores one chunk of WAL in every backup store: compressed with zstd, encrypted with age to the backup recipients,
 * locked (COMPLIANCE) as long as a base backup taken now would be, since every base backup older than the chunk may need
 * it; then its signed metadata. A chunk counts once its metadata is in every store, and nothing before.
 */
public final class WalUploader {
    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final SigningKey signingKey;
    private final dev.bunker.backup.ManifestTrust trust;

    public WalUploader(BackupsConfig config, Map<String, Store> stores, Path dataDir) throws IOException {
        this.config = config;
        this.stores = stores;
        this.signingKey = SigningKey.loadOrCreate(dataDir);
        this.trust = dev.bunker.backup.ManifestTrust.of(config.signers(), dataDir);
    }

    public WalChunk upload(String source, String systemId, int timeline, long segmentSize, long start, byte[] bytes, int length, Instant receivedAt,
                           Instant completeThrough) throws IOException {
        byte[] data = encrypt(bytes, length);
        String sha256 = Sha256.hexOf(data);
        WalChunk chunk = WalChunk.of(source, systemId, timeline, segmentSize, start, start + length, receivedAt, data.length, sha256, completeThrough);
        LockState lock = lockFor(source, receivedAt);
        putData(chunk.dataKey(), data, sha256, lock, "WAL chunk " + chunk.name());
        putMetadata(chunk.metaKey(), chunk.signedMetadata(signingKey), lock);
        return chunk;
    }

    /** Records that the source had written nothing past {@code at} by {@code completeThrough} (a source gone quiet). */
    public WalChunk mark(String source, String systemId, int timeline, long segmentSize, long at, Instant receivedAt, Instant completeThrough)
            throws IOException {
        WalChunk marker = WalChunk.marker(source, systemId, timeline, segmentSize, at, receivedAt, completeThrough);
        putMetadata(marker.metaKey(), marker.signedMetadata(signingKey), lockFor(source, receivedAt));
        return marker;
    }

    /**
     * Stores the history file of {@code timeline} (checked to be one first) in every backup store: its data object, then
     * its signed metadata, locked as WAL is.
     */
    public HistoryFile uploadHistory(String source, String systemId, int timeline, String content, Instant receivedAt) throws IOException {
        TimelineHistory.parse(timeline, content);
        HistoryFile history = new HistoryFile(source, systemId, timeline, receivedAt, content);
        byte[] text = content.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] data = encrypt(text, text.length);
        LockState lock = lockFor(source, receivedAt);
        putData(history.dataKey(), data, Sha256.hexOf(data), lock, "timeline history " + history.name());
        putMetadata(history.metaKey(), SignedJson.sign(history, signingKey), lock);
        return history;
    }

    /** Whether every backup store has a trusted history of {@code timeline} of the cluster (a stream start stores one if not). */
    public boolean hasHistory(String source, String systemId, int timeline) throws IOException {
        for (String name : config.stores()) {
            if (HistoryFile.find(stores.get(name), source, systemId, timeline, trust).isEmpty()) return false;
        }
        return true;
    }

    /** Whether the first backup store has a trusted chunk of the segment starting at {@code segmentStart} from its first byte. */
    public boolean hasSegmentFromItsStart(String source, String systemId, int timeline, long segmentStart, long segmentSize) throws IOException {
        String segment = Wal.segmentName(timeline, segmentStart, segmentSize);
        return WalArchive.first(stores.get(config.stores().get(0)), source, systemId, trust, segment)
                .filter(c -> c.segment().equals(segment) && c.startLsn() == segmentStart).isPresent();
    }

    /** zstd and age, as every stored log is kept (for a MariaDB source's binary log too). */
    public byte[] seal(byte[] bytes, int length) throws IOException {
        return encrypt(bytes, length);
    }

    /** Sealed bytes in every backup store, each checked to keep exactly them. */
    public void putSealed(String key, byte[] sealed, LockState lock, String what) throws IOException {
        putData(key, sealed, Sha256.hexOf(sealed), lock, what);
    }

    /** Signed metadata in every backup store, after its data: only now does the object count. */
    public void putSigned(String key, Object metadata, LockState lock) throws IOException {
        putMetadata(key, SignedJson.sign(metadata, signingKey), lock);
    }

    /** WAL is locked as long as the source's base backups (its own {@code pitr: {lock}}, or {@code backups.base}'s), from when it arrived. */
    private LockState lockFor(String source, Instant receivedAt) {
        java.time.Duration lock = config.kind(source, "base").lock();
        return lock == null ? null : new LockState(receivedAt.plus(lock).plusSeconds(1), false);
    }

    /** zstd, then age to the backup recipients, as every WAL object is kept. */
    private byte[] encrypt(byte[] bytes, int length) throws IOException {
        ByteArrayOutputStream encrypted = new ByteArrayOutputStream(Math.max(4096, length / 4));
        try (OutputStream out = new ZstdOutputStream(AgeCrypto.encrypting(encrypted, config.recipients()), config.base().zstdLevel())) {
            out.write(bytes, 0, length);
        }
        return encrypted.toByteArray();
    }

    /** The data object in every backup store, each checked to keep exactly these bytes. */
    private void putData(String key, byte[] data, String sha256, LockState lock, String what) throws IOException {
        for (String name : config.stores()) {
            PutResult r = stores.get(name).put(key, new ByteArrayInputStream(data), new PutOptions(data.length, lock).withSha256(sha256));
            if (!r.sha256().equals(sha256)) throw new IOException("store '" + name + "' kept " + what + " with SHA-256 " + r.sha256());
        }
    }

    /** The signed metadata in every backup store, after the data: only now does the object count. */
    private void putMetadata(String key, byte[] meta, LockState lock) {
        for (String name : config.stores()) {
            stores.get(name).put(key, new ByteArrayInputStream(meta), new PutOptions(meta.length, lock));
        }
    }
}
