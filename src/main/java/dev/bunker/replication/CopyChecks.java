package dev.bunker.replication;

import dev.bunker.config.BunkerConfig;
import dev.bunker.config.StoreConfig;
import dev.bunker.replication.Ledger.CopyRow;
import dev.bunker.replication.Ledger.ObjectRow;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Staged;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.PutResult;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * How a copy on a target is judged and protected: is what the target already holds the right object,
 * does a new copy hold the right bytes, and the target's Object Lock. A copy counts only when the
 * store reports the right size and either confirms the same checksum or gives back the right bytes;
 * on an archival tier (GLACIER, DEEP_ARCHIVE), where reading takes a restore of hours, the store's
 * size and checksum stand in for reading, since it checked the upload's Content-MD5 and SHA-256.
 */
public final class CopyChecks {
    /** What a target already holds under the key, and its version and checksum when it is the right object. */
    record Existing(Kind kind, String versionId, String storeChecksum) {
        enum Kind { ABSENT_OR_REPLACEABLE, MATCHES, LOCKED_DIFFERENT }
    }

    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Clock clock;
    private final ReplicationMetrics metrics;

    public CopyChecks(BunkerConfig config, Map<String, Store> stores, Clock clock, ReplicationMetrics metrics) {
        this.config = config;
        this.stores = stores;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** A copy may already be there (a worker died after writing it, or an operator restored it): verify instead of copying. */
    Existing existing(String target, ObjectRow object, CopyRow row) {
        Existing absent = new Existing(Existing.Kind.ABSENT_OR_REPLACEABLE, null, null);
        if (object.sha256() == null) return absent;
        Store store = stores.get(target);
        Optional<ObjectInfo> info = store.stat(object.key());
        if (info.isEmpty()) return absent;
        ObjectInfo i = info.get();
        boolean same = i.size() == object.size() && (config.store(target).archival()
                ? checksumMatches(i.storeChecksum(), object, row)
                : object.sha256().equals(Sha256.ofCopy(store, object.key(), i.versionId())));
        if (same) return new Existing(Existing.Kind.MATCHES, i.versionId(), i.storeChecksum());
        if (store instanceof LockableStore l && l.lockState(object.key()).protects(clock.instant())) {
            return new Existing(Existing.Kind.LOCKED_DIFFERENT, null, null);
        }
        return absent;
    }

    /** Without reading: the store's checksum is the one a single PUT of these bytes gets, or the one recorded when the copy was made. */
    private static boolean checksumMatches(String storeChecksum, ObjectRow object, CopyRow row) {
        if (storeChecksum == null) return false; // nothing to go by: write it again rather than trust a size
        return storeChecksum.equals(Sha256.base64OfHex(object.sha256())) || (row != null && storeChecksum.equals(row.storeChecksum()));
    }

    /** A copy counts only when the store reports the right size and the right bytes (or, on an archival tier, the checksum it confirmed). */
    void verify(String target, ObjectRow object, PutResult written) {
        String wrong = wrongBytes(target, object, written);
        if (wrong != null) throw new IllegalStateException(wrong);
        Store store = stores.get(target);
        ObjectInfo info = store.stat(object.key()).orElseThrow(() ->
                new IllegalStateException("store '" + target + "' does not show " + object.key() + " right after writing it"));
        if (info.size() != object.size()) {
            throw new IllegalStateException("store '" + target + "' reports " + info.size() + " bytes for " + object.key() + ", expected " + object.size());
        }
        if (written.storeChecksum() != null && info.storeChecksum() != null) {
            if (!written.storeChecksum().equals(info.storeChecksum())) {
                throw new IllegalStateException("store '" + target + "' reports checksum " + info.storeChecksum() + " for " + object.key()
                        + ", expected " + written.storeChecksum());
            }
            return;
        }
        if (config.store(target).archival()) return; // the store checked Content-MD5 on upload; reading back would need a restore
        String actual = Sha256.ofCopy(store, object.key(), written.versionId());
        if (!actual.equals(object.sha256())) {
            metrics.corruptCopy(target);
            throw new IllegalStateException("reading back " + object.key() + " from store '" + target + "' gives SHA-256 " + actual
                    + ", expected " + object.sha256());
        }
    }

    /**
     * The same for a staged copy, before it is published: the store hashed the bytes as it wrote them to its staging
     * file (for a local store, reading them back would only read the same page cache again, at the cost of a second
     * SHA-256 pass); publishing then makes exactly that file durable and visible.
     */
    void verifyStaged(String target, ObjectRow object, Staged staged) {
        String wrong = wrongBytes(target, object, staged.written());
        if (wrong != null) {
            metrics.corruptCopy(target);
            throw new IllegalStateException(wrong);
        }
    }

    /**
     * The same for a write to a store that checked each body in transit ({@link Store#checksWritesInTransit}): what it
     * holds is what was sent, so the size and SHA-256 of what was sent decide, with the checksum it echoed (if any)
     * already compared by the store.
     */
    void verifySent(String target, ObjectRow object, PutResult written) {
        String wrong = wrongBytes(target, object, written);
        if (wrong != null) throw new IllegalStateException(wrong);
    }

    /** Why a write's size or SHA-256 is not the object's; null when both are. */
    private static String wrongBytes(String target, ObjectRow object, PutResult written) {
        if (written.size() == object.size() && written.sha256().equals(object.sha256())) return null;
        return "copy to '" + target + "' wrote " + written.size() + " bytes with SHA-256 " + written.sha256()
                + ", expected " + object.size() + " bytes with " + object.sha256();
    }

    /**
     * The Object Lock a copy gets as it is written or published: the target's retention from now (never shorter
     * than what older versions of the key hold, when {@code look}) and the legal hold; null if the target keeps no locks.
     */
    LockState lockFor(String target, String key, boolean look) {
        StoreConfig sc = config.store(target);
        if (sc.lock() == null) return null;
        LockState existing = LockState.NONE;
        try {
            if (look) existing = ((LockableStore) stores.get(target)).lockState(key);
        } catch (ObjectNotFoundException absent) {
            existing = LockState.NONE;
        }
        return new LockState(existing.extendedFor(clock.instant(), sc.lock().period()), true);
    }

    /** Applies the target's Object Lock (retention extended, then the legal hold) and says what the copy now is. */
    CopyObject.Copy lock(String target, String key, String storeChecksum, String versionId) {
        StoreConfig sc = config.store(target);
        if (sc.lock() == null) return new CopyObject.Copy(target, storeChecksum, versionId, null, false, false);
        LockableStore store = (LockableStore) stores.get(target);
        // Always applied: lockState combines versions, so an older held version would hide an unheld new one.
        Instant until = store.holdAndRetain(key, clock.instant(), sc.lock().period());
        return new CopyObject.Copy(target, storeChecksum, versionId, until, true, false);
    }
}
