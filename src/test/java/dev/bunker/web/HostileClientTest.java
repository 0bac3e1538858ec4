package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.config.BunkerConfig;
import dev.bunker.store.LocalStore;
import dev.bunker.store.Sha256;
import dev.bunker.testing.RawHttp;
import dev.bunker.testing.TestConfigs;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or careless client can do over real HTTP: keys that cannot name an object, a body
 * shorter than announced or stalled, idle half-open connections, oversized headers, a database that
 * fails, and a corrupt copy of a large object. Each gets a clear 4xx/5xx or a cut-short response,
 * and none records anything or hands out wrong bytes as a whole response.
 */
@Timeout(120)
class HostileClientTest {
    @TempDir Path dir;
    Bunker bunker;
    Engine engine;
    HttpApi api;
    String token;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        BunkerConfig config = TestConfigs.threeLocalStores(dir);
        bunker = Bunker.open(config, Clock.systemUTC());
        engine = Engine.on(bunker);
        Tokens tokens = Tokens.load(config.api(), dir);
        token = Files.readString(dir.resolve("admin-token")).trim();
        api = new HttpApi(config.listen(), tokens, 8, Duration.ofSeconds(2)).add(SystemRoutes.of(bunker)).add(StatusRoutes.of(engine, new dev.bunker.history.Series(engine.bunker().database().dataSource())))
                .add(LifecycleRoutes.of(engine.lifecycle(), engine.replication().keyLimits())).add(ObjectRoutes.of(engine.replication()));
        api.start();
        engine.replication().workers().start();
    }

    @AfterEach
    void stop() {
        api.stop(0);
        engine.close();
        bunker.close();
    }

    long rows(String table) throws Exception {
        try (var c = bunker.database().connection(); ResultSet rs = c.createStatement().executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    RawHttp.Reply raw(String method, String rawPath, byte[] body) throws Exception {
        return RawHttp.send(api.uri(), method + " " + rawPath + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer "
                + token + (body == null ? "" : "\r\nContent-Length: " + body.length), body, false);
    }

    @Test
    void keysThatCannotNameAnObjectAre400NamingTheRuleOnEveryRouteAndRecordNothing() throws Exception {
        String[][] bad = {
                {"x%FFy", "not valid UTF-8"}, {"x%FEy", "not valid UTF-8"}, {"%C3", "not valid UTF-8"}, {"a%00b", "NUL byte"},
                {"a/../b", "'..' segment"}, {"a/%2e%2E/b", "'..' segment"}, {"./a", "'.' segment"}, {"a%0Ab", "control character"},
                {"a%C2%85b", "control character"}, {"a%5Cb", "use '/' to separate segments"}, {"a%2F%2Fb", "empty segment"}, {"x%zz", "malformed %-escape"},
                {"seg/" + "s".repeat(256), "at most 255 bytes"}, {".bunker/backups/app/x.manifest.json", "reserved for Bunker"}};
        for (String[] b : bad) {
            String path = "/v1/objects/" + b[0];
            for (String[] route : new String[][] {{"PUT", ""}, {"GET", ""}, {"DELETE", ""}, {"GET", "/copies"}, {"POST", "/replicate"},
                    {"POST", "/restore"}}) {
                RawHttp.Reply r = raw(route[0], path + route[1], route[0].equals("PUT") ? new byte[] {1, 2, 3} : null);
                assertThat(r.status()).as("%s %s%s", route[0], path, route[1]).isEqualTo(400);
                assertThat(r.text()).as("%s %s%s", route[0], path, route[1]).contains(b[1]);
            }
        }
        assertThat(rows("objects")).isZero();
        assertThat(rows("ingest_reservations")).isZero();
        assertThat(rows("replication_jobs")).isZero();
        assertThat(bunker.store("primary").list("", null, 10).objects()).isEmpty();
    }

    @Test
    void twoKeysThatDifferOnlyInInvalidBytesAreNeverConflatedAndValidUtf8Works() throws Exception {
        assertThat(raw("PUT", "/v1/objects/x%FFy", new byte[] {1}).status()).isEqualTo(400);
        assertThat(raw("PUT", "/v1/objects/x%FEy", new byte[] {2}).status()).isEqualTo(400);
        RawHttp.Reply created = raw("PUT", "/v1/objects/caf%C3%A9/%E2%98%80.jpg", new byte[] {3, 4});
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.text()).contains("\"key\" : \"café/☀.jpg\"");
        assertThat(raw("GET", "/v1/objects/caf%C3%A9/%E2%98%80.jpg", null).body()).containsExactly(3, 4);
        // The same text in another normal form is another key (keys are stored as given).
        assertThat(raw("GET", "/v1/objects/cafe%CC%81/%E2%98%80.jpg", null).status()).isEqualTo(404);
    }

    @Test
    void aBodyShorterThanItsContentLengthIs400AndStoresNothing() throws Exception {
        RawHttp.Reply r = RawHttp.send(api.uri(), "PUT /v1/objects/short HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                + "\r\nContent-Length: 1000", new byte[10], true);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text()).contains("ended after 10 bytes of the 1000");
        assertThat(rows("objects")).isZero();
        assertThat(rows("ingest_reservations")).isZero();
        assertThat(bunker.store("primary").stat("short")).isEmpty();
    }

    @Test
    void aClientThatStopsSendingIsCutOffByTheIdleTimeoutAndFreesItsThread() throws Exception {
        long t0 = System.nanoTime();
        RawHttp.Reply r = RawHttp.send(api.uri(), "PUT /v1/objects/stalled HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                + "\r\nContent-Length: 1000", new byte[10], false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(r.status()).isEqualTo(408);
        assertThat(seconds).isBetween(1.5, 15.0);
        assertThat(rows("objects")).isZero();
        assertThat(bunker.store("primary").stat("stalled")).isEmpty();
    }

    @Test
    void aClientThatTricklesItsBodyBelowTheMinimumRateIsCutOff() throws Exception {
        try (Socket s = new Socket(api.uri().getHost(), api.uri().getPort())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("PUT /v1/objects/trickle HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            String answer = "";
            for (int i = 0; i < 40 && answer.isEmpty(); i++) { // 100 bytes every 250 ms: 400 B/s, a tenth of the minimum
                try {
                    out.write(new byte[100]);
                    out.flush();
                } catch (java.io.IOException closed) {
                    break;
                }
                Thread.sleep(250);
                if (s.getInputStream().available() > 0) answer = new String(s.getInputStream().readNBytes(s.getInputStream().available()));
            }
            if (answer.isEmpty()) answer = new String(s.getInputStream().readNBytes(12));
            assertThat(answer).startsWith("HTTP/1.1 408");
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10.0);
        }
        assertThat(rows("objects")).isZero();
        assertThat(bunker.store("primary").stat("trickle")).isEmpty();
    }

    @Test
    void twoHundredHalfOpenConnectionsLeaveHealthzAnsweringWithinASecond() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket(api.uri().getHost(), api.uri().getPort());
                OutputStream out = s.getOutputStream();
                out.write("GET /heal".getBytes(StandardCharsets.US_ASCII)); // half a request line, then nothing
                out.flush();
                idle.add(s);
            }
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(api.uri().resolve("/healthz")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                double ms = (System.nanoTime() - t0) / 1e6;
                assertThat(health.statusCode()).isEqualTo(200);
                assertThat(ms).as("healthz latency with 200 idle connections").isLessThan(1000);
            }
            RawHttp.Reply stores = RawHttp.get(api.uri(), "/v1/stores", token);
            assertThat(stores.status()).isEqualTo(200);
        } finally {
            for (Socket s : idle) s.close();
        }
    }

    @Test
    void oversizedHeadersAre431AndUnknownPathsAre404AsJson() throws Exception {
        RawHttp.Reply big = RawHttp.send(api.uri(), "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Junk: "
                + "j".repeat(20_000), null, false);
        assertThat(big.status()).isEqualTo(431);
        RawHttp.Reply unknown = RawHttp.get(api.uri(), "/nope", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.text()).contains("\"error\"");
    }

    @Test
    void aDatabaseFailureIs503WithAGenericMessageNotTheDriversText() throws Exception {
        bunker.database().close();
        RawHttp.Reply r = raw("GET", "/v1/objects/anything", null);
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("database is unavailable").doesNotContainIgnoringCase("hikari").doesNotContainIgnoringCase("sql")
                .doesNotContain("jdbc");
        RawHttp.Reply health = RawHttp.get(api.uri(), "/healthz", null);
        assertThat(health.status()).isEqualTo(503);
        assertThat(health.text()).contains("\"database\" : \"failing\"").doesNotContainIgnoringCase("hikari");
    }

    @Test
    void aCorruptLargePrimaryCopyFailsTheFirstReadAtTheClientAndTheRetryIsServedFromAReplica() throws Exception {
        byte[] data = new byte[6 << 20];
        new Random(11).nextBytes(data);
        assertThat(raw("PUT", "/v1/objects/big.bin", data).status()).isEqualTo(201);
        waitForVerifiedCopies("big.bin");
        Path onDisk = ((LocalStore) dev.bunker.testing.Unwrapped.of(bunker.store("primary"))).pathOf("big.bin");
        byte[] rotten = data.clone();
        rotten[rotten.length - 100] ^= 0x08; // past the 4 MiB verify-before-send window
        Files.write(onDisk, rotten);

        Path out = dir.resolve("download");
        int first = curl(out);
        assertThat(first).as("curl exit code for a response cut short").isNotZero();
        assertThat(Files.size(out)).isLessThan(data.length);

        RawHttp.Reply retry = raw("GET", "/v1/objects/big.bin", null);
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.complete()).isTrue();
        assertThat(retry.body()).isEqualTo(data);
        assertThat(retry.headers().get("x-bunker-served-from")).isEqualTo("vault");
        assertThat(retry.headers().get("repr-digest")).isEqualTo("sha-256=:" + Sha256.base64OfHex(Sha256.hexOf(data)) + ":");
        assertThat(retry.headers().get("x-amz-checksum-sha256")).isEqualTo(Sha256.base64OfHex(Sha256.hexOf(data)));
        assertThat(curl(out)).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(data);
        assertThat(bunker.metrics().scrape()).contains("bunker_corrupt_copies_found_total{store=\"primary\"}");
    }

    private int curl(Path out) throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "-o", out.toString(), "-H", "Authorization: Bearer " + token,
                api.uri() + "/v1/objects/big.bin").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    private void waitForVerifiedCopies(String key) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (engine.replication().ledger().copies(key).stream().filter(c -> c.state() == dev.bunker.replication.CopyState.VERIFIED).count() == 3) return;
            Thread.sleep(50);
        }
        throw new AssertionError("copies of " + key + " not verified in time: " + engine.replication().ledger().copies(key));
    }
}
