package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * Multipart uploads of an {@link S3Store}: parts of {@code part-size} go up side by side while the next
 * one is read, at most a quarter of the store's {@code max-connections} at once across all its uploads
 * (8 parts, 128 MiB, by default), each with its SHA-256 and Content-MD5. A failed upload is aborted and
 * leaves nothing visible.
 */
final class S3Multipart implements AutoCloseable {
    private final S3Client s3;
    private final String store;
    private final String bucket;
    private final String storageClass;
    private final long partSize;
    private final PartBudget budget;
    private final ExecutorService partUploads;

    S3Multipart(S3Client s3, StoreConfig.S3 config) {
        this.s3 = s3;
        this.store = config.name();
        this.bucket = config.bucket();
        this.storageClass = config.storageClass();
        this.partSize = config.partSize();
        this.budget = new PartBudget(Math.max(2, config.maxConnections() / 4) * config.partSize());
        this.partUploads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "s3-part-" + store);
            t.setDaemon(true);
            return t;
        });
    }

    /** The store's upload memory: the single PUTs' buffers and the parts in flight count against it. */
    PartBudget budget() { return budget; }

    /**
     * Uploads {@code first} (whose bytes the caller counted in {@link #budget}; this releases them) and the rest of
     * {@code data} as key {@code k}; the whole's size and SHA-256 are checked before completing.
     */
    PutResult upload(String key, String k, byte[] first, InputStream data, PutOptions options) throws IOException {
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(k)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256);
        if (storageClass != null) create.storageClass(StorageClass.fromValue(storageClass));
        if (options.lock() != null) {
            if (options.lock().retainUntil() != null) {
                create.objectLockMode(ObjectLockMode.COMPLIANCE).objectLockRetainUntilDate(options.lock().retainUntil());
            }
            create.objectLockLegalHoldStatus(options.lock().legalHold() ? ObjectLockLegalHoldStatus.ON : ObjectLockLegalHoldStatus.OFF);
        }
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(create.build()).uploadId();
        } catch (RuntimeException e) {
            budget.release(first.length);
            throw e;
        }
        boolean completed = false;
        List<java.util.concurrent.Future<CompletedPart>> uploading = new ArrayList<>();
        List<Runnable> releases = new ArrayList<>(); // a part cancelled before it ran never releases its bytes itself
        byte[] unsent = first; // counted in the budget and not yet handed to a part upload
        try {
            MessageDigest whole = Sha256.newDigest();
            long size = 0;
            // Parts go up side by side while the next one is read; each is counted in the budget before it is read.
            while (unsent.length > 0) {
                final byte[] body = unsent;
                whole.update(body);
                final int number = uploading.size() + 1;
                java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
                releases.add(() -> { if (released.compareAndSet(false, true)) budget.release(body.length); });
                uploading.add(partUploads.submit(() -> {
                    try {
                        return uploadPart(k, uploadId, number, body);
                    } finally {
                        if (released.compareAndSet(false, true)) budget.release(body.length);
                    }
                }));
                unsent = new byte[0];
                size += body.length;
                budget.acquire(partSize);
                byte[] next;
                try {
                    next = data.readNBytes((int) partSize);
                } catch (IOException | RuntimeException e) {
                    budget.release(partSize);
                    throw e;
                }
                budget.shrink(partSize, next.length);
                unsent = next;
            }
            List<CompletedPart> parts = new ArrayList<>();
            for (java.util.concurrent.Future<CompletedPart> f : uploading) parts.add(awaitPart(f));
            String sha256 = Sha256.hex(whole.digest());
            options.checkWhole(store, key, size, sha256); // before completing: other bytes are aborted, never made visible
            options.checkPrecondition();
            var done = s3.completeMultipartUpload(r -> r.bucket(bucket).key(k).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            completed = true;
            return new PutResult(size, sha256, done.checksumSHA256(), done.versionId());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("upload of " + ObjectKeys.quote(key) + " to store '" + store + "' interrupted");
        } finally {
            if (unsent.length > 0) budget.release(unsent.length);
            if (!completed) {
                for (java.util.concurrent.Future<CompletedPart> f : uploading) f.cancel(true);
                releases.forEach(Runnable::run);
                abort(k, uploadId);
            }
        }
    }

    private CompletedPart uploadPart(String k, String uploadId, int number, byte[] body) {
        String b64 = Base64.getEncoder().encodeToString(Sha256.newDigest().digest(body));
        String etag = s3.uploadPart(r -> r.bucket(bucket).key(k).uploadId(uploadId).partNumber(number)
                .contentLength((long) body.length).checksumSHA256(b64).contentMD5(S3Clients.md5(body)), S3Clients.bodyOf(body)).eTag();
        return CompletedPart.builder().partNumber(number).eTag(etag).checksumSHA256(b64).build();
    }

    /** A part's result; its failure as the SDK reported it. */
    private static CompletedPart awaitPart(java.util.concurrent.Future<CompletedPart> f) throws InterruptedException, IOException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof SdkException sdk) throw sdk;
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IOException("uploading a part failed: " + e.getCause(), e.getCause());
        }
    }

    private void abort(String k, String uploadId) {
        try {
            s3.abortMultipartUpload(r -> r.bucket(bucket).key(k).uploadId(uploadId));
        } catch (SdkException ignored) {
            // An unaborted upload is invisible and is expired by the bucket's lifecycle rule (see README).
        }
    }

    @Override
    public void close() {
        partUploads.shutdownNow();
    }
}
