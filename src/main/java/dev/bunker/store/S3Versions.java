package dev.bunker.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The versions of one key in a bucket and the Object Lock of each. A bucket with Object Lock keeps
 * versions: a lock protects one version, a plain delete only hides the data behind a delete
 * marker, and really removing an object means removing every version by its id.
 */
final class S3Versions {
    /** One version or delete marker of a key; {@code id} null in a bucket that keeps no versions. */
    record Version(String id, boolean deleteMarker) {}

    private final S3Client s3;
    private final String bucket;
    private final S3Errors errors;

    S3Versions(S3Client s3, String bucket, S3Errors errors) {
        this.s3 = s3;
        this.bucket = bucket;
        this.errors = errors;
    }

    /** Every version and delete marker of {@code k}, newest first; one id-less entry where the server keeps no versions. */
    List<Version> of(String k, S3Client client) {
        List<Version> out = new ArrayList<>();
        ListObjectVersionsResponse resp;
        String keyMarker = null;
        String versionMarker = null;
        do {
            String km = keyMarker;
            String vm = versionMarker;
            try {
                resp = client.listObjectVersions(r -> {
                    r.bucket(bucket).prefix(k).maxKeys(1000);
                    if (km != null) r.keyMarker(km).versionIdMarker(vm);
                });
            } catch (S3Exception e) {
                if (e.statusCode() == 501 || e.statusCode() == 405) return List.of(new Version(null, false)); // no versioning here
                throw e;
            }
            resp.versions().stream().filter(v -> v.key().equals(k))
                    .forEach(v -> out.add(new Version(idOrNull(v.versionId()), false)));
            resp.deleteMarkers().stream().filter(v -> v.key().equals(k))
                    .forEach(v -> out.add(new Version(idOrNull(v.versionId()), true)));
            boolean pastKey = resp.versions().stream().anyMatch(v -> !v.key().equals(k))
                    || resp.deleteMarkers().stream().anyMatch(v -> !v.key().equals(k));
            if (pastKey || !Boolean.TRUE.equals(resp.isTruncated())) break;
            keyMarker = resp.nextKeyMarker();
            versionMarker = resp.nextVersionIdMarker();
        } while (true);
        return out;
    }

    /** The versions that hold data (locks live on them, not on delete markers). */
    List<String> dataVersions(String k) {
        List<String> ids = new ArrayList<>();
        for (Version v : of(k, s3)) if (!v.deleteMarker()) ids.add(v.id());
        if (ids.isEmpty()) ids.add(null);
        return ids;
    }

    LockState lockOf(String key, String k, String versionId) {
        Instant until = null;
        boolean hold = false;
        try {
            var r = s3.getObjectRetention(b -> b.bucket(bucket).key(k).versionId(versionId)).retention();
            if (r != null && r.mode() == ObjectLockRetentionMode.COMPLIANCE) until = r.retainUntilDate();
        } catch (S3Exception e) {
            if (!S3Errors.isNoLock(e)) throw errors.translate(e, "read the retention of", key);
        } catch (SdkException e) {
            throw errors.translate(e, "read the retention of", key);
        }
        try {
            var h = s3.getObjectLegalHold(b -> b.bucket(bucket).key(k).versionId(versionId)).legalHold();
            hold = h != null && h.status() == ObjectLockLegalHoldStatus.ON;
        } catch (S3Exception e) {
            if (!S3Errors.isNoLock(e)) throw errors.translate(e, "read the legal hold of", key);
        } catch (SdkException e) {
            throw errors.translate(e, "read the legal hold of", key);
        }
        return new LockState(until, hold);
    }

    void setRetention(String key, String k, String versionId, Instant until) {
        try {
            s3.putObjectRetention(r -> r.bucket(bucket).key(k).versionId(versionId)
                    .retention(t -> t.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(until)));
        } catch (SdkException e) {
            throw errors.translate(e, "set retention on", key);
        }
    }

    void setHold(String key, String k, String versionId, boolean on) {
        try {
            s3.putObjectLegalHold(r -> r.bucket(bucket).key(k).versionId(versionId)
                    .legalHold(h -> h.status(on ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF)));
        } catch (SdkException e) {
            throw errors.translate(e, "set the legal hold on", key);
        }
    }

    private static String idOrNull(String id) {
        return id == null || id.equals("null") ? null : id;
    }
}
