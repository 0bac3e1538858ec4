package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * A store in an S3 bucket (AWS, Wasabi, Backblaze B2, Scaleway, MinIO...), through the AWS SDK v2.
 *
 * <p>Objects up to {@code part-size} go up in one PutObject with their SHA-256 checksum; larger ones
 * as a multipart upload whose parts each carry a checksum, so memory stays at one part whatever the
 * size. Object Lock is sent with the upload and then read back: some S3-compatible servers accept
 * the headers and silently drop them, so a missing lock is set explicitly and a lock that still
 * does not stick fails the put.
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
    private final Clock clock;

    public S3Store(StoreConfig.S3 config, Clock clock) {
        this.name = config.name();
        this.bucket = config.bucket();
        this.prefix = config.prefix();
        this.storageClass = config.storageClass();
        this.partSize = config.partSize();
        this.clock = clock;
        this.s3 = client(config, config.accessKey(), config.secretKey());
        this.deleter = config.cleanupAccessKey() == null ? s3 : client(config, config.cleanupAccessKey(), config.cleanupSecretKey());
    }

    private static S3Client client(StoreConfig.S3 config, String accessKey, String secretKey) {
        AwsCredentialsProvider credentials = accessKey == null
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
        var builder = S3Client.builder()
                .region(Region.of(config.region()))
                .forcePathStyle(config.pathStyle())
                .credentialsProvider(credentials)
                // We send SHA-256 ourselves; the SDK's default CRC trailers are not understood by every S3-compatible server.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(config.maxConnections())
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)));
        if (config.endpoint() != null) builder.endpointOverride(config.endpoint());
        return builder.build();
    }

    @Override
    public String name() { return name; }

    private String objectKey(String key) {
        return prefix + ObjectKeys.validate(name, key);
    }

    @Override
    public PutResult put(String key, InputStream data, PutOptions options) {
        String k = objectKey(key);
        try {
            byte[] first = data.readNBytes((int) Math.min(partSize, Integer.MAX_VALUE - 8));
            PutResult result;
            if (first.length < partSize) {
                checkSize(key, options, first.length); // before anything is uploaded
                result = putSingle(key, k, first, options);
            } else {
                result = putMultipart(key, k, first, data, options);
            }
            if (options.lock() != null) ensureLock(key, options.lock());
            return result;
        } catch (IOException e) {
            throw new StoreUnavailableException(name, key, "unable to read the data for " + ObjectKeys.quote(key) + ": " + e, e);
        } catch (SdkException e) {
            throw translate(e, "store", key);
        }
    }

    private PutResult putSingle(String key, String k, byte[] body, PutOptions options) {
        byte[] sha = Sha256.newDigest().digest(body);
        String b64 = Base64.getEncoder().encodeToString(sha);
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(k)
                .contentLength((long) body.length).checksumSHA256(b64);
        if (storageClass != null) req.storageClass(StorageClass.fromValue(storageClass));
        if (options.lock() != null) {
            if (options.lock().retainUntil() != null) {
                req.objectLockMode(ObjectLockMode.COMPLIANCE).objectLockRetainUntilDate(options.lock().retainUntil());
            }
            req.objectLockLegalHoldStatus(options.lock().legalHold() ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF);
        }
        var resp = s3.putObject(req.build(), RequestBody.fromBytes(body));
        if (resp.checksumSHA256() != null && !resp.checksumSHA256().equals(b64)) {
            throw new StoreException(name, key, "store '" + name + "' reports SHA-256 " + resp.checksumSHA256()
                    + " for " + ObjectKeys.quote(key) + " but " + b64 + " was sent");
        }
        return new PutResult(body.length, Sha256.hex(sha), b64);
    }

    private PutResult putMultipart(String key, String k, byte[] first, InputStream data, PutOptions options) throws IOException {
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(k)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256);
        if (storageClass != null) create.storageClass(StorageClass.fromValue(storageClass));
        if (options.lock() != null) {
            if (options.lock().retainUntil() != null) {
                create.objectLockMode(ObjectLockMode.COMPLIANCE).objectLockRetainUntilDate(options.lock().retainUntil());
            }
            create.objectLockLegalHoldStatus(options.lock().legalHold() ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF);
        }
        String uploadId = s3.createMultipartUpload(create.build()).uploadId();
        boolean completed = false;
        try {
            MessageDigest whole = Sha256.newDigest();
            MessageDigest ofParts = Sha256.newDigest();
            List<CompletedPart> parts = new ArrayList<>();
            long size = 0;
            byte[] part = first;
            while (part.length > 0) {
                final byte[] body = part;
                whole.update(body);
                byte[] partSha = Sha256.newDigest().digest(body);
                ofParts.update(partSha);
                String b64 = Base64.getEncoder().encodeToString(partSha);
                int number = parts.size() + 1;
                String etag = s3.uploadPart(r -> r.bucket(bucket).key(k).uploadId(uploadId).partNumber(number)
                        .contentLength((long) body.length).checksumSHA256(b64), RequestBody.fromBytes(body)).eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).checksumSHA256(b64).build());
                size += body.length;
                part = data.readNBytes((int) partSize);
            }
            checkSize(key, options, size); // before completing: a wrong size is aborted, never made visible
            s3.completeMultipartUpload(r -> r.bucket(bucket).key(k).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            completed = true;
            String composite = Base64.getEncoder().encodeToString(ofParts.digest()) + "-" + parts.size();
            return new PutResult(size, Sha256.hex(whole.digest()), composite);
        } finally {
            if (!completed) {
                try {
                    s3.abortMultipartUpload(r -> r.bucket(bucket).key(k).uploadId(uploadId));
                } catch (SdkException ignored) {
                    // An unaborted upload is invisible and is expired by the bucket's lifecycle rule (see README).
                }
            }
        }
    }

    /** Reads the lock back and sets what the server dropped; fails loudly if it still does not stick. */
    private void ensureLock(String key, LockState wanted) {
        LockState actual = lockState(key);
        boolean retentionOk = wanted.retainUntil() == null
                || (actual.retainUntil() != null && !actual.retainUntil().isBefore(wanted.retainUntil().minusSeconds(1)));
        if (!retentionOk) extendRetention(key, wanted.retainUntil());
        if (actual.legalHold() != wanted.legalHold()) setLegalHold(key, wanted.legalHold());
        if (!retentionOk || actual.legalHold() != wanted.legalHold()) {
            LockState again = lockState(key);
            boolean ok = (wanted.retainUntil() == null || (again.retainUntil() != null && !again.retainUntil().isBefore(wanted.retainUntil().minusSeconds(1))))
                    && again.legalHold() == wanted.legalHold();
            if (!ok) {
                throw new LockNotSupportedException(name, key, "store '" + name + "' accepted " + ObjectKeys.quote(key)
                        + " but did not keep its Object Lock (wanted " + wanted.describe() + ", has " + again.describe()
                        + "); check that bucket '" + bucket + "' was created with Object Lock enabled");
            }
        }
    }

    @Override
    public InputStream get(String key) {
        String k = objectKey(key);
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket).key(k));
            return in;
        } catch (SdkException e) {
            throw translate(e, "read", key);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        String k = objectKey(key);
        try {
            HeadObjectResponse h = s3.headObject(r -> r.bucket(bucket).key(k).checksumMode(ChecksumMode.ENABLED));
            return Optional.of(new ObjectInfo(key, h.contentLength(), h.lastModified(), h.checksumSHA256()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return Optional.empty();
            throw translate(e, "stat", key);
        } catch (SdkException e) {
            throw translate(e, "stat", key);
        }
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
            throw translate(e, "list", null);
        }
    }

    @Override
    public void delete(String key) {
        String k = objectKey(key);
        try {
            // In a versioned bucket (Object Lock requires one) a plain delete only adds a delete marker; the data
            // stays. Deleting means removing every version, which the bucket refuses while a lock protects it.
            List<String> versions = versionsOf(k);
            if (versions.isEmpty()) {
                deleter.deleteObject(r -> r.bucket(bucket).key(k));
            }
            for (String v : versions) {
                deleter.deleteObject(r -> r.bucket(bucket).key(k).versionId(v));
            }
        } catch (S3Exception e) {
            if (e.statusCode() == 403) {
                LockState state = lockStateOrNone(key);
                if (state.protects(clock.instant())) {
                    throw new ObjectLockedException(name, key, "unable to delete " + ObjectKeys.quote(key) + " in store '" + name
                            + "': it is under " + state.describe() + " (COMPLIANCE mode: nobody can delete it before then)", e);
                }
            }
            throw translate(e, "delete", key);
        } catch (SdkException e) {
            throw translate(e, "delete", key);
        }
    }

    private List<String> versionsOf(String k) {
        List<String> out = new ArrayList<>();
        ListObjectVersionsResponse resp;
        try {
            resp = deleter.listObjectVersions(r -> r.bucket(bucket).prefix(k).maxKeys(1000));
        } catch (S3Exception e) {
            if (e.statusCode() == 501 || e.statusCode() == 405) return out; // server without versioning support
            throw e;
        }
        resp.versions().stream().filter(v -> v.key().equals(k) && v.versionId() != null && !v.versionId().equals("null"))
                .forEach(v -> out.add(v.versionId()));
        resp.deleteMarkers().stream().filter(v -> v.key().equals(k) && v.versionId() != null && !v.versionId().equals("null"))
                .forEach(v -> out.add(v.versionId()));
        return out;
    }

    @Override
    public void extendRetention(String key, Instant retainUntil) {
        String k = objectKey(key);
        LockState current = lockState(key);
        if (current.retainUntil() != null && retainUntil.isBefore(current.retainUntil())) {
            throw new ObjectLockedException(name, key, "unable to shorten the retention of " + ObjectKeys.quote(key) + " in store '" + name
                    + "' to " + retainUntil + ": it is under COMPLIANCE retention until " + current.retainUntil()
                    + ", which can be extended but never shortened");
        }
        try {
            s3.putObjectRetention(r -> r.bucket(bucket).key(k)
                    .retention(t -> t.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(retainUntil)));
        } catch (SdkException e) {
            throw translate(e, "set retention on", key);
        }
    }

    @Override
    public void setLegalHold(String key, boolean on) {
        String k = objectKey(key);
        try {
            s3.putObjectLegalHold(r -> r.bucket(bucket).key(k)
                    .legalHold(h -> h.status(on ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF)));
        } catch (SdkException e) {
            throw translate(e, "set the legal hold on", key);
        }
    }

    @Override
    public LockState lockState(String key) {
        String k = objectKey(key);
        if (stat(key).isEmpty()) {
            throw new ObjectNotFoundException(name, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + name + "'");
        }
        Instant until = null;
        boolean hold = false;
        try {
            var r = s3.getObjectRetention(b -> b.bucket(bucket).key(k)).retention();
            if (r != null && r.mode() == ObjectLockRetentionMode.COMPLIANCE) until = r.retainUntilDate();
        } catch (S3Exception e) {
            if (!isNoLock(e)) throw translate(e, "read the retention of", key);
        } catch (SdkException e) {
            throw translate(e, "read the retention of", key);
        }
        try {
            var h = s3.getObjectLegalHold(b -> b.bucket(bucket).key(k)).legalHold();
            hold = h != null && h.status() == ObjectLockLegalHoldStatus.ON;
        } catch (S3Exception e) {
            if (!isNoLock(e)) throw translate(e, "read the legal hold of", key);
        } catch (SdkException e) {
            throw translate(e, "read the legal hold of", key);
        }
        return new LockState(until, hold);
    }

    private LockState lockStateOrNone(String key) {
        try {
            return lockState(key);
        } catch (StoreException e) {
            return LockState.NONE;
        }
    }

    /** "This object has no retention / legal hold": AWS says NoSuchObjectLockConfiguration, some servers a bare 404. */
    private static boolean isNoLock(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return "NoSuchObjectLockConfiguration".equals(code) || e.statusCode() == 404;
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
                    + bucket + "' failed with HTTP " + e.statusCode() + " " + errorCode(e)
                    + "; use a bucket created with Object Lock enabled on a server that supports it", e);
        } catch (SdkException e) {
            throw translate(e, "check Object Lock on", null);
        }
    }

    private StoreException translate(SdkException e, String action, String key) {
        String what = "unable to " + action + " " + (key == null ? "bucket '" + bucket + "'" : ObjectKeys.quote(key))
                + " in store '" + name + "': ";
        if (e instanceof S3Exception s3e) {
            int status = s3e.statusCode();
            String code = errorCode(s3e);
            String detail = "HTTP " + status + " " + code + (s3e.awsErrorDetails() != null && s3e.awsErrorDetails().errorMessage() != null
                    ? " (" + s3e.awsErrorDetails().errorMessage() + ")" : "");
            if (status == 404 && key != null && !"NoSuchBucket".equals(code)) {
                return new ObjectNotFoundException(name, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + name + "'", e);
            }
            if ("InvalidObjectState".equals(code)) {
                return new StoreUnavailableException(name, key, what + "the object is archived in a cold storage class and must be restored first (" + detail + ")", e);
            }
            if (status == 501) {
                return new LockNotSupportedException(name, key, what + "the server does not implement this call (" + detail + ")", e);
            }
            if ("InvalidRequest".equals(code) && s3e.getMessage() != null && s3e.getMessage().contains("Object Lock")) {
                return new LockNotSupportedException(name, key, what + detail + "; the bucket needs Object Lock enabled", e);
            }
            if (status >= 500 || status == 429) return new StoreUnavailableException(name, key, what + detail, e);
            return new StoreException(name, key, what + detail, e);
        }
        if (e instanceof SdkClientException) {
            return new StoreUnavailableException(name, key, what + "the server did not answer (" + e.getMessage() + ")", e);
        }
        return new StoreException(name, key, what + e.getMessage(), e);
    }

    private static String errorCode(S3Exception e) {
        return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "" : e.awsErrorDetails().errorCode();
    }

    private void checkSize(String key, PutOptions options, long actual) {
        if (options.size() >= 0 && actual != options.size()) {
            throw new StoreException(name, key, "unable to store " + ObjectKeys.quote(key) + " in store '" + name
                    + "': expected " + options.size() + " bytes but the input ended after " + actual);
        }
    }

    @Override
    public void close() {
        s3.close();
        if (deleter != s3) deleter.close();
    }
}
