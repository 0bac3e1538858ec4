package dev.bunker.store;

import dev.bunker.config.StoreConfig;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/** S3 clients as {@link S3Store} needs them to work with AWS and with the S3-compatible servers that differ from it. */
final class S3Clients {
    private S3Clients() {}

    static S3Client build(StoreConfig.S3 config, String accessKey, String secretKey) {
        AwsCredentialsProvider credentials = accessKey == null
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
        var builder = S3Client.builder()
                .region(Region.of(config.region()))
                .forcePathStyle(config.pathStyle())
                .credentialsProvider(credentials)
                // Whole, signed bodies: aws-chunked (the SDK's default for unsigned TLS-less bodies) and its CRC trailers are not
                // understood by every S3-compatible server; we send SHA-256 and MD5 ourselves.
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(config.maxConnections())
                        .expectContinueEnabled(false)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)));
        if (config.endpoint() != null) builder.endpointOverride(config.endpoint());
        return builder.build();
    }

    /** The Content-MD5 of a body: checked by AWS and by servers that ignore the x-amz-checksum headers. */
    static String md5(byte[] body) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(body));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }


    /** A request body over {@code bytes} without the copy {@code RequestBody.fromBytes} makes (a part is up to part-size). */
    static software.amazon.awssdk.core.sync.RequestBody bodyOf(byte[] bytes) {
        return software.amazon.awssdk.core.sync.RequestBody.fromContentProvider(() -> new java.io.ByteArrayInputStream(bytes), bytes.length,
                "application/octet-stream");
    }
}
