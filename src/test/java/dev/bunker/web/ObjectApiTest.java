package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.replication.Replication;
import dev.bunker.store.Sha256;
import dev.bunker.testing.TestConfigs;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The object endpoints over HTTP, with the workers running, as an app would use them. */
@Timeout(60)
class ObjectApiTest {
    @TempDir Path dir;
    Bunker bunker;
    Replication replication;
    dev.bunker.Engine engine;
    HttpApi api;
    String token;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        BunkerConfig config = TestConfigs.threeLocalStores(dir);
        bunker = Bunker.open(config, Clock.systemUTC());
        engine = dev.bunker.Engine.on(bunker);
        replication = engine.replication();
        Tokens tokens = Tokens.load(config.api(), dir);
        token = Files.readString(dir.resolve("admin-token")).trim();
        api = new HttpApi(config.listen(), tokens, 4).add(SystemRoutes.of(bunker)).add(StatusRoutes.of(engine, new dev.bunker.history.Series(engine.bunker().database().dataSource())))
                .add(ObjectRoutes.of(replication));
        api.start();
        replication.workers().start();
    }

    @AfterEach
    void stop() {
        api.stop(0);
        engine.close();
        bunker.close();
    }

    HttpResponse<String> send(String method, String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.uri().resolve(path)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    long rows(String table) throws Exception {
        try (var c = bunker.database().connection(); ResultSet rs = c.createStatement().executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void putGetHeadCopiesAndStatusWorkEndToEnd() throws Exception {
        byte[] data = new byte[200_000];
        new Random(5).nextBytes(data);
        HttpResponse<String> created = send("PUT", "/v1/objects/albums/2024/IMG_0001.jpg", data);
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).contains("\"sha256\" : \"" + Sha256.hexOf(data) + "\"", "\"size\" : 200000");
        assertThat(send("PUT", "/v1/objects/albums/2024/IMG_0001.jpg", data).statusCode()).isEqualTo(200);
        assertThat(send("PUT", "/v1/objects/albums/2024/IMG_0001.jpg", new byte[] {1, 2}).statusCode()).isEqualTo(409);

        HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(api.uri().resolve("/v1/objects/albums/2024/IMG_0001.jpg"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(data);
        assertThat(got.headers().firstValue("x-bunker-sha256")).hasValue(Sha256.hexOf(data));

        HttpResponse<String> head = send("HEAD", "/v1/objects/albums/2024/IMG_0001.jpg", null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Content-Length")).hasValue("200000");

        long deadline = System.nanoTime() + 10_000_000_000L;
        String copies;
        do {
            Thread.sleep(100);
            copies = send("GET", "/v1/objects/albums/2024/IMG_0001.jpg/copies", null).body();
        } while (copies.contains("pending") && System.nanoTime() < deadline);
        assertThat(copies).contains("\"store\" : \"vault\"", "\"legalHold\" : true").doesNotContain("pending");

        HttpResponse<String> status = send("GET", "/v1/status", null);
        assertThat(status.body()).contains("\"objects\" : 1", "\"depth\" : 0", "\"vault\"");
        assertThat(send("GET", "/metrics", null).body()).contains("bunker_replication_queue_depth", "bunker_copies{state=\"verified\",store=\"vault\"}");
    }

    @Test
    void badRequestsGet4xxAndRecordNothing() throws Exception {
        assertThat(send("PUT", "/v1/objects/a", new byte[] {1}, "x-bunker-sha256", "00".repeat(32)).statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/v1/objects/a", new byte[] {1}, "x-bunker-sha256", "nothex").statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/v1/objects/a", new byte[] {1}, "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==").statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/v1/objects/x/%2E%2E/y", new byte[] {1}).statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/v1/objects/dir/", new byte[] {1}).statusCode()).isEqualTo(400);
        assertThat(send("GET", "/v1/objects/never", null).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/v1/objects/never/replicate", null).statusCode()).isEqualTo(404);
        assertThat(rows("objects")).isZero();
        assertThat(rows("replication_jobs")).isZero();
        assertThat(bunker.store("primary").list("", null, 10).objects()).isEmpty();
        assertThat(http.send(HttpRequest.newBuilder(api.uri().resolve("/v1/objects/a")).PUT(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    }

    @Test
    void keysWithAnEncodedSlashAreNotMistakenForSuffixRoutes() throws Exception {
        assertThat(send("PUT", "/v1/objects/notes%2Fcopies", new byte[] {7}).statusCode()).isEqualTo(201);
        HttpResponse<String> got = send("GET", "/v1/objects/notes%2Fcopies", null);
        assertThat(got.statusCode()).isEqualTo(200);
        // Unencoded, the same path asks for the copies of an object "notes", which does not exist.
        assertThat(send("GET", "/v1/objects/notes/copies", null).body()).contains("no object 'notes'");
    }
}
