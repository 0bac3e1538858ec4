package dev.bunker.store;

import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Turns what the AWS SDK throws into Bunker's store exceptions, with one wording: "unable to ACTION KEY in store 'NAME': WHY". */
final class S3Errors {
    private final String store;
    private final String bucket;

    S3Errors(String store, String bucket) {
        this.store = store;
        this.bucket = bucket;
    }

    StoreException translate(SdkException e, String action, String key) {
        String what = "unable to " + action + " " + (key == null ? "bucket '" + bucket + "'" : ObjectKeys.quote(key))
                + " in store '" + store + "': ";
        if (e instanceof S3Exception s3e) {
            int status = s3e.statusCode();
            String code = code(s3e);
            String detail = "HTTP " + status + " " + code + (s3e.awsErrorDetails() != null && s3e.awsErrorDetails().errorMessage() != null
                    ? " (" + s3e.awsErrorDetails().errorMessage() + ")" : "");
            if (status == 404 && key != null && !"NoSuchBucket".equals(code)) {
                return new ObjectNotFoundException(store, key, "object " + ObjectKeys.quote(key) + " does not exist in store '" + store + "'", e);
            }
            if ("InvalidObjectState".equals(code)) {
                return new ObjectArchivedException(store, key, what + "the object is archived in a cold storage class and must be restored first ("
                        + detail + ")", e);
            }
            if (status == 501) {
                return new LockNotSupportedException(store, key, what + "the server does not implement this call (" + detail + ")", e);
            }
            if ("InvalidRequest".equals(code) && s3e.getMessage() != null && s3e.getMessage().contains("Object Lock")) {
                return new LockNotSupportedException(store, key, what + detail + "; the bucket needs Object Lock enabled", e);
            }
            if (status >= 500 || status == 429) return new StoreUnavailableException(store, key, what + detail, e);
            return new StoreException(store, key, what + detail, e);
        }
        if (e instanceof SdkClientException) {
            return new StoreUnavailableException(store, key, what + "the server did not answer (" + e.getMessage() + ")", e);
        }
        return new StoreException(store, key, what + e.getMessage(), e);
    }

    static String code(S3Exception e) {
        return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "" : e.awsErrorDetails().errorCode();
    }

    /** "This object has no retention / legal hold": AWS says NoSuchObjectLockConfiguration, some servers a bare 404. */
    static boolean isNoLock(S3Exception e) {
        return "NoSuchObjectLockConfiguration".equals(code(e)) || e.statusCode() == 404;
    }
}
