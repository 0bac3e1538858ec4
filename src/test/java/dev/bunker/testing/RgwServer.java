package dev.bunker.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * Ceph RGW, a real S3 server that ENFORCES Object Lock (S3Mock only stores it), started once per test
 * JVM by {@code src/test/resources/rgw/rgw.sh} on free 127.0.0.1 ports under {@code target/rgw-*},
 * and stopped when the JVM exits. Needs the Debian packages ceph-mon, ceph-osd, ceph-common and
 * radosgw (a test prerequisite; .ci/run installs them): without them these tests fail, never skip.
 */
public final class RgwServer {
    public static final String ACCESS_KEY = "bunker-test";
    public static final String SECRET_KEY = "bunker-test-secret";
    /** A second user of the same server: owns nothing of the first's, so every call on its buckets is refused. */
    public static final String OTHER_ACCESS_KEY = "bunker-other";
    public static final String OTHER_SECRET_KEY = "bunker-other-secret";
    private static URI endpoint;

    private RgwServer() {}

    public static synchronized URI endpoint() {
        if (endpoint != null) return endpoint;
        try {
            Path dir = Path.of("target").toAbsolutePath().resolve("rgw-" + UUID.randomUUID().toString().substring(0, 8));
            Files.createDirectories(dir.getParent());
            Path script = Files.createTempFile("rgw", ".sh");
            try (var in = RgwServer.class.getResourceAsStream("/rgw/rgw.sh")) {
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            List<Integer> ports = freePorts(5);
            int osdMin = freeRange(8);
            List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), "start", dir.toString(),
                    "" + ports.get(0), "" + ports.get(1), "" + osdMin, "" + (osdMin + 7), "" + ports.get(2)));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("Ceph RGW did not start (rgw.sh exit " + p.exitValue() + "); logs in " + dir.resolve("log")
                        + "; the tests need: apt-get install ceph-mon ceph-osd ceph-common radosgw");
            }
            String last = out.lines().reduce((a, b) -> b).orElse("");
            endpoint = URI.create(last.split(" ")[0].substring("endpoint=".length()));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    new ProcessBuilder("bash", script.toString(), "stop", dir.toString()).inheritIO().start().waitFor(20, TimeUnit.SECONDS);
                    deleteTree(dir);
                    Files.deleteIfExists(script);
                } catch (IOException | InterruptedException ignored) {
                    // the JVM is exiting
                }
            }));
            return endpoint;
        } catch (IOException e) {
            throw new IllegalStateException("unable to start Ceph RGW: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static S3Client client() {
        return client(ACCESS_KEY, SECRET_KEY);
    }

    /** A client as Bunker builds one for RGW: whole signed bodies, no trailing checksums, no Expect: 100-continue. */
    public static S3Client client(String accessKey, String secretKey) {
        return S3Client.builder().endpointOverride(endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(ApacheHttpClient.builder().expectContinueEnabled(false))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey))).build();
    }

    /** A new bucket, with or without Object Lock. */
    public static String newBucket(boolean objectLock) {
        String bucket = "rgw-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3Client s3 = client()) {
            s3.createBucket(b -> b.bucket(bucket).objectLockEnabledForBucket(objectLock));
        }
        return bucket;
    }

    private static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                out.add(s.getLocalPort());
            }
            return out;
        } finally {
            for (ServerSocket s : held) s.close();
        }
    }

    /** The first port of {@code n} consecutive free ports (the OSD binds a few of them). */
    private static int freeRange(int n) throws IOException {
        for (int start = 20000 + (int) (Math.random() * 20000); start < 60000; start += n) {
            boolean free = true;
            for (int p = start; p < start + n && free; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) return start;
        }
        throw new IOException("no range of " + n + " free ports");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
