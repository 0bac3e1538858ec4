package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * A store in an S3 bucket (AWS, Wasabi, Backblaze B2, Scaleway, Ceph RGW, MinIO...), through the AWS SDK v2.
 *
 * <p>Objects up to {@code part-size} go up in one PutObject, larger ones as a multipart upload, so
 * memory stays at one part whatever the size. Every request body carries its SHA-256 and MD5: AWS
 * checks both, servers that ignore {@code x-amz-checksum-*} (RGW) still check Content-MD5, and a
 * checksum the server echoes back becomes the copy's store checksum. What was sent is hashed, and an
 * upload whose bytes are not the SHA-256 the caller expects is refused before it becomes visible, so
 * a write that returns holds exactly the bytes wanted ({@link #checksWritesInTransit}). The client never
 * sends aws-chunked bodies or {@code Expect: 100-continue}, which S3-compatible servers get wrong (RGW
 * refuses empty chunked bodies and hangs the connection after a refused 100-continue). Object Lock is
 * sent with the upload and read back (one HEAD): a server that silently drops it gets it set
 * explicitly, and a lock that still does not stick fails the put.
 */
public final class S3Store implements LockableStore {
    private final String name;
    private final S3Client s3;
    /** The client deletes go through: built from the cleanup credential when one is configured. */
    private final S3Client deleter;
    private final String bucket;
    private final String prefix;
    private final String storageClass;
    private final long partSize;
    private final boolean locked;
    private final ObjectKeys.Limits limits;
    private final Clock clock;
    private final S3Errors errors;
    private final S3Versions versions;
    private final S3Multipart multipart;
    private final StoreConfig.Inventory inventory;

    public S3Store(StoreConfig.S3 config, Clock clock) {
        this.name = config.name();
        this.bucket = config.bucket();
        this.prefix = config.prefix();
        this.storageClass = config.storageClass();
        this.partSize = config.partSize();
        this.locked = config.lock() != null;
        this.limits = ObjectKeys.limitsFor(List.of(config));
        this.clock = clock;
        this.s3 = S3Clients.build(config, config.accessKey(), config.secretKey());
        this.deleter = config.cleanupAccessKey() == null ? s3 : S3Clients.build(config, config.cleanupAccessKey(), config.cleanupSecretKey());
        this.errors = new S3Errors(name, bucket);
        this.versions = new S3Versions(s3, bucket, errors);
        this.multipart = new S3Multipart(s3, config);
        this.inventory = config.inventory();
    }

    @Override
    public String name() { return name; }

    private String objectKey(String key) {
        return prefix + ObjectKeys.validate(name, key, limits);
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        return write(key, data, options, false);
    }

    @Override
    public PutResult putNewVersion(String key, InputStream data, PutOptions options) {
        return write(key, data, options, true);
    }

    private PutResult write(String key, InputStream data, PutOptions options, boolean asNewVersion) {
        String k = objectKey(key);
        PartBudget budget = multipart.budget();
        long held = 0;
        try {
            budget.acquire(partSize); // the first buffer counts against the store's upload memory before it is filled
            held = partSize;
            byte[] first = data.readNBytes((int) Math.min(partSize, Integer.MAX_VALUE - 8));
            budget.shrink(held, first.length);
            held = first.length;
            if (locked && !asNewVersion) refuseIfLocked(key, k);
            PutResult result;
            if (first.length < partSize) {
                options.checkSize(name, key, first.length); // before anything is uploaded
                result = putSingle(key, k, first, options);
            } else {
                held = 0; // the upload releases the first part's bytes once that part is sent
                result = multipart.upload(key, k, first, data, options);
            }
            if (options.lock() != null) ensureLock(key, k, result.versionId(), options.lock(), result.size());
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException(name, key, "interrupted while waiting to store " + ObjectKeys.quote(key) + " in store '" + name + "'", e);
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to read the data to store as " + ObjectKeys.quote(key) + " in store '" + name + "': " + e, e);
        } catch (SdkException e) {
            throw errors.translate(e, "store", key);
        } finally {
            if (held > 0) budget.release(held);
        }
    }

    /** S3 keeps a locked object's version whatever comes after it; like a local store, refuse to put another over it. */
    private void refuseIfLocked(String key, String k) {
        try {
            s3.headObject(r -> r.bucket(bucket).key(k));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return;
            throw e;
        }
        ObjectLockedException.refuseWhileProtected(name, key, "overwrite", versions.lockOf(key, k, null), clock.instant());
    }

    private PutResult putSingle(String key, String k, byte[] body, PutOptions options) {
        byte[] sha = Sha256.newDigest().digest(body);
        options.checkWhole(name, key, body.length, Sha256.hex(sha));
        String b64 = Base64.getEncoder().encodeToString(sha);
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(k)
                .contentLength((long) body.length).checksumSHA256(b64).contentMD5(S3Clients.md5(body));
        if (storageClass != null) req.storageClass(StorageClass.fromValue(storageClass));
        if (options.lock() != null) {
            if (options.lock().retainUntil() != null) {
                req.objectLockMode(ObjectLockMode.COMPLIANCE).objectLockRetainUntilDate(options.lock().retainUntil());
            }
            req.objectLockLegalHoldStatus(options.lock().legalHold() ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF);
        }
        options.checkPrecondition();
        var resp = s3.putObject(req.build(), S3Clients.bodyOf(body));
        if (resp.checksumSHA256() != null && !resp.checksumSHA256().equals(b64)) {
            throw new StoreException(name, key, "store '" + name + "' reports SHA-256 " + resp.checksumSHA256()
                    + " for " + ObjectKeys.quote(key) + " but " + b64 + " was sent");
        }
        return new PutResult(body.length, Sha256.hex(sha), resp.checksumSHA256(), resp.versionId());
    }

    /**
     * Reads the lock of the version just written (from one HEAD, which also shows the size) and sets what the
     * server dropped; fails loudly if it still does not stick.
     */
    private void ensureLock(String key, String k, String versionId, LockState wanted, long size) {
        HeadObjectResponse head = s3.headObject(r -> r.bucket(bucket).key(k).versionId(versionId));
        if (head.contentLength() != null && head.contentLength() != size) {
            throw new StoreException(name, key, "store '" + name + "' reports " + head.contentLength() + " bytes for "
                    + ObjectKeys.quote(key) + " right after " + size + " were written");
        }
        LockState actual = new LockState(head.objectLockMode() == ObjectLockMode.COMPLIANCE ? head.objectLockRetainUntilDate() : null,
                head.objectLockLegalHoldStatus() == ObjectLockLegalHoldStatus.ON);
        boolean retentionOk = holdsRetention(actual, wanted);
        if (!retentionOk) versions.setRetention(key, k, versionId, wanted.retainUntil());
        if (actual.legalHold() != wanted.legalHold()) versions.setHold(key, k, versionId, wanted.legalHold());
        if (!retentionOk || actual.legalHold() != wanted.legalHold()) {
            LockState again = versions.lockOf(key, k, versionId);
            if (!holdsRetention(again, wanted) || again.legalHold() != wanted.legalHold()) {
                throw new LockNotSupportedException(name, key, "store '" + name + "' accepted " + ObjectKeys.quote(key)
                        + " but did not keep its Object Lock (wanted " + wanted.describe() + ", has " + again.describe()
                        + "); check that bucket '" + bucket + "' was created with Object Lock enabled");
            }
        }
    }

    private static boolean holdsRetention(LockState actual, LockState wanted) {
        return wanted.retainUntil() == null
                || (actual.retainUntil() != null && !actual.retainUntil().isBefore(wanted.retainUntil().minusSeconds(1)));
    }

    /** Every body goes up with its Content-MD5, which the server checks, and an object is visible only once whole. */
    @Override
    public boolean checksWritesInTransit() {
        return true;
    }

    @Override
    public InputStream get(String key) {
        return get(key, null);
    }

    @Override
    public InputStream get(String key, String versionId) {
        String k = objectKey(key);
        try {
            return s3.getObject(r -> r.bucket(bucket).key(k).versionId(versionId));
        } catch (SdkException e) {
            throw errors.translate(e, "read", key);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        String k = objectKey(key);
        try {
            HeadObjectResponse h = s3.headObject(r -> r.bucket(bucket).key(k).checksumMode(ChecksumMode.ENABLED));
            return Optional.of(new ObjectInfo(key, h.contentLength(), h.lastModified(), h.checksumSHA256(), h.versionId()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return Optional.empty();
            throw errors.translate(e, "stat", key);
        } catch (SdkException e) {
            throw errors.translate(e, "stat", key);
        }
    }

    /** The memory uploads to this store may hold (tests look at it). */
    PartBudget uploadBudget() {
        return multipart.budget();
    }

    /** The newest complete S3 Inventory report of the bucket, when the store names where its reports land. */
    @Override
    public Optional<FullListing> inventory(Instant now) {
        if (inventory == null) return Optional.empty();
        return Optional.of(S3Inventory.open(s3, inventory, name, bucket, prefix, now, errors));
    }

    @Override
    public ListPage list(String listPrefix, String startAfter, int limit) {
        if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
        String p = prefix + (listPrefix == null ? "" : listPrefix);
        try {
            ListObjectsV2Response resp = s3.listObjectsV2(r -> {
                r.bucket(bucket).prefix(p).maxKeys(Math.min(limit, 1000));
                if (startAfter != null) r.startAfter(prefix + startAfter);
            });
            List<ObjectInfo> out = new ArrayList<>();
            for (S3Object o : resp.contents()) {
                out.add(new ObjectInfo(o.key().substring(prefix.length()), o.size(), o.lastModified(), null));
            }
            boolean more = Boolean.TRUE.equals(resp.isTruncated()) && !out.isEmpty();
            return new ListPage(out, more ? out.get(out.size() - 1).key() : null);
        } catch (SdkException e) {
            throw errors.translate(e, "list", null);
        }
    }

    /**
     * Removes every version of the key (a plain delete in a versioned bucket only adds a delete marker and
     * keeps the data), then lists again: a version still there fails the delete rather than being reported gone.
     * A lock is checked first, so Bunker refuses the delete itself even on a server that does not enforce locks.
     */
    @Override
    public void delete(String key) {
        String k = objectKey(key);
        if (locked) refuseIfProtected(key);
        try {
            for (S3Versions.Version v : versions.of(k, deleter)) {
                deleter.deleteObject(r -> r.bucket(bucket).key(k).versionId(v.id()));
            }
            List<S3Versions.Version> left = versions.of(k, deleter).stream().filter(v -> v.id() != null || !v.deleteMarker()).toList();
            boolean unversioned = left.size() == 1 && left.get(0).id() == null;
            if (!left.isEmpty() && !(unversioned && stat(key).isEmpty())) {
                throw new StoreException(name, key, "unable to delete " + ObjectKeys.quote(key) + " in store '" + name + "': "
                        + left.size() + " version(s) are still there after deleting them");
            }
        } catch (S3Exception e) {
            if (e.statusCode() == 403) {
                // The server's clock decides, not ours: any lock it still reports, or its own words, make this a lock refusal.
                LockState state = lockStateOrNone(key);
                String says = e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null ? "" : e.awsErrorDetails().errorMessage();
                if (state.retainUntil() != null || state.legalHold() || says.toLowerCase(java.util.Locale.ROOT).contains("object lock")) {
                    throw new ObjectLockedException(name, key, "unable to delete " + ObjectKeys.quote(key) + " in store '" + name
                            + "': the server refused (" + (says.isEmpty() ? "HTTP 403" : says) + "); it is under " + state.describe()
                            + " (COMPLIANCE mode: nobody can delete it before then)", e);
                }
            }
            throw errors.translate(e, "delete", key);
        } catch (SdkException e) {
            throw errors.translate(e, "delete", key);
        }
    }

    private void refuseIfProtected(String key) {
        if (stat(key).isEmpty()) return;
        ObjectLockedException.refuseWhileProtected(name, key, "delete", lockState(key), clock.instant());
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        lockEveryVersion(key, current -> retainUntil, null);
    }

    private void refuseShortening(String key, LockState current, Instant retainUntil) {
        if (current.retainUntil() != null && retainUntil.isBefore(current.retainUntil())) {
            throw new ObjectLockedException(name, key, "unable to shorten the retention of " + ObjectKeys.quote(key) + " in store '" + name
                    + "' to " + retainUntil + ": it is under COMPLIANCE retention until " + current.retainUntil()
                    + ", which can be extended but never shortened");
        }
    }

    /** Retention, then the hold, on every version, with the versions and their locks listed once (not once per call). */
    @Override
    public void applyLock(String key, Instant retainUntil, boolean legalHold) {
        lockEveryVersion(key, current -> retainUntil, legalHold);
    }

    @Override
    public Instant holdAndRetain(String key, Instant now, java.time.Duration period) {
        return lockEveryVersion(key, current -> current.extendedFor(now, period), true);
    }

    /**
     * Lists the versions and their locks once, then sets the retention {@code until} picks (null: keep; never shorter)
     * and the hold ({@code legalHold} null: keep) on each.
     */
    private Instant lockEveryVersion(String key, java.util.function.Function<LockState, Instant> until, Boolean legalHold) {
        String k = objectKey(key);
        if (stat(key).isEmpty()) {
            throw new ObjectNotFoundException(name, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + name + "'");
        }
        List<String> ids = versions.dataVersions(k);
        LockState current = LockState.NONE;
        for (String v : ids) current = current.and(versions.lockOf(key, k, v));
        Instant retainUntil = until.apply(current);
        if (retainUntil != null) {
            refuseShortening(key, current, retainUntil);
            for (String v : ids) versions.setRetention(key, k, v, retainUntil);
        }
        if (legalHold != null) for (String v : ids) versions.setHold(key, k, v, legalHold);
        return retainUntil;
    }

    @Override
    public void setLegalHold(String key, boolean on) {
        String k = objectKey(key);
        for (String v : versions.dataVersions(k)) versions.setHold(key, k, v, on);
    }

    @Override
    public LockState lockState(String key) {
        String k = objectKey(key);
        if (stat(key).isEmpty()) {
            throw new ObjectNotFoundException(name, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + name + "'");
        }
        LockState all = LockState.NONE;
        for (String v : versions.dataVersions(k)) all = all.and(versions.lockOf(key, k, v));
        return all;
    }

    private LockState lockStateOrNone(String key) {
        try {
            return lockState(key);
        } catch (StoreException e) {
            return LockState.NONE;
        }
    }

    @Override
    public void checkLockingEnabled() {
        try {
            var conf = s3.getObjectLockConfiguration(r -> r.bucket(bucket)).objectLockConfiguration();
            if (conf == null || conf.objectLockEnabled() != ObjectLockEnabled.ENABLED) {
                throw new LockNotSupportedException(name, null, "bucket '" + bucket + "' of store '" + name
                        + "' does not have Object Lock enabled; it can only be enabled on a new bucket (create it with Object Lock on)");
            }
        } catch (S3Exception e) {
            throw new LockNotSupportedException(name, null, "store '" + name + "' cannot lock objects: reading the Object Lock configuration of bucket '"
                    + bucket + "' failed with HTTP " + e.statusCode() + " " + S3Errors.code(e)
                    + "; use a bucket created with Object Lock enabled on a server that supports it", e);
        } catch (SdkException e) {
            throw errors.translate(e, "check Object Lock on", null);
        }
    }

    @Override
    public void close() {
        multipart.close();
        s3.close();
        if (deleter != s3) deleter.close();
    }
}
