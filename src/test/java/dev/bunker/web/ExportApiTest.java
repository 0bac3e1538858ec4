package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.Bunker;
import dev.bunker.Engine;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.ConfigLoader;
import dev.bunker.export.Exports;
import dev.bunker.json.Json;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Export subscriptions over HTTP (admin creates, read lists and shows deliveries) and the CLI's answers to bad input. */
@Timeout(60)
class ExportApiTest {
    @TempDir Path dir;
    Path configFile;
    Bunker bunker;
    Engine engine;
    HttpApi api;
    final String viewer = Tokens.newToken();
    final String ops = Tokens.newToken();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        configFile = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        BunkerConfig base = ConfigLoader.load(configFile, ConfigLoader.Overrides.NONE);
        BunkerConfig config = new BunkerConfig(base.source(), base.dataDir(), new dev.bunker.config.HostPort("127.0.0.1", 0), base.database(), base.stores(),
                base.replication(), new BunkerConfig.ApiConfig(Map.of("viewer", new TokenConfig("viewer", TokenScope.READ, Tokens.hash(viewer)),
                        "ops", new TokenConfig("ops", TokenScope.ADMIN, Tokens.hash(ops)))), base.lifecycle(), base.backups());
        bunker = Bunker.open(config, Clock.systemUTC());
        engine = Engine.on(bunker);
        api = new HttpApi(config.listen(), Tokens.load(config.api(), dir), 4).add(ExportRoutes.of(engine.exports()));
        api.start();
    }

    @AfterEach
    void stop() {
        api.stop(0);
        engine.close();
        bunker.close();
    }

    HttpResponse<String> send(String token, String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(api.uri().resolve(path)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAdminSubscribesAReaderSeesTheDeliveries() throws Exception {
        String body = "{\"name\": \"u42\", \"prefix\": \"users/42/\"}";
        assertThat(send(viewer, "POST", "/v1/exports", body).statusCode()).isEqualTo(403);
        HttpResponse<String> created = send(ops, "POST", "/v1/exports", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(Json.MAPPER.readTree(created.body()).get("createdBy").asText()).isEqualTo("api:ops");
        assertThat(send(ops, "POST", "/v1/exports", body).statusCode()).isEqualTo(409);

        engine.replication().ingest().put("users/42/a.jpg", new ByteArrayInputStream("photo".getBytes()), 5, null, null);
        Exports.Result r = engine.exports().run(new Exports.Request("u42", null, null, null, null, dir.resolve("out").toString(), false), l -> { });

        JsonNode shown = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports/u42", null).body());
        assertThat(shown.at("/subscription/prefix").asText()).isEqualTo("users/42/");
        assertThat(shown.get("deliveries")).hasSize(1);
        assertThat(shown.at("/deliveries/0/state").asText()).isEqualTo("delivered");
        assertThat(shown.at("/deliveries/0/objects").asLong()).isEqualTo(1);
        assertThat(shown.at("/deliveries/0/archiveSha256").asText()).isEqualTo(r.delivery().archiveSha256());
        JsonNode list = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports", null).body());
        assertThat(list.at("/subscriptions/0/lastDelivery/id").asLong()).isEqualTo(r.delivery().id());
        assertThat(send(viewer, "GET", "/v1/exports/nobody", null).statusCode()).isEqualTo(404);
        assertThat(send("bkr_wrong", "GET", "/v1/exports/u42", null).statusCode()).isEqualTo(401);
    }

    @Test
    void eachDeliveryOneOffOrNotShowsWhatItDeliveredAndListedAsDeletedAPageAtATime() throws Exception {
        for (String name : new String[] {"a.jpg", "b.jpg", "c.jpg"}) {
            engine.replication().ingest().put("users/7/" + name, new ByteArrayInputStream(name.getBytes(StandardCharsets.UTF_8)), name.length(), null, null);
        }
        Exports.Result first = engine.exports().run(new Exports.Request(null, "users/7/", null, null, null, dir.resolve("out").toString(), false), l -> { });
        Thread.sleep(10);
        engine.replication().ingest().put("users/7/d.jpg", new ByteArrayInputStream("d".getBytes(StandardCharsets.UTF_8)), 1, null, null);
        // a one-off export of what came since the first: d.jpg alone
        Exports.Result since = engine.exports().run(new Exports.Request(null, "users/7/", first.delivery().startedAt(), null, null,
                dir.resolve("since").toString(), false), l -> { });
        assertThat(since.delivery().objects()).isEqualTo(1);
        // a subscription lists what left the prefix between its deliveries as deleted
        engine.exports().subscribe("u7", "users/7/", null, null, "test");
        engine.exports().run(new Exports.Request("u7", null, null, null, null, dir.resolve("sub").toString(), false), l -> { });
        engine.lifecycle().trash().trash("users/7/b.jpg", "test");
        Exports.Result second = engine.exports().run(new Exports.Request("u7", null, null, null, null, dir.resolve("sub").toString(), false), l -> { });

        JsonNode list = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports", null).body());
        assertThat(list.get("oneOff")).extracting(d -> d.get("id").asLong()).containsExactly(since.delivery().id(), first.delivery().id());
        JsonNode sinceShown = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports/deliveries/" + since.delivery().id(), null).body());
        assertThat(sinceShown.get("objects")).extracting(i -> i.get("key").asText()).containsExactly("users/7/d.jpg");
        HttpResponse<String> shown = send(viewer, "GET", "/v1/exports/deliveries/" + first.delivery().id() + "?limit=2", null);
        assertThat(shown.statusCode()).as(shown.body()).isEqualTo(200);
        JsonNode one = Json.MAPPER.readTree(shown.body());
        assertThat(one.at("/delivery/state").asText()).isEqualTo("delivered");
        assertThat(one.at("/delivery/archiveSha256").asText()).isEqualTo(first.delivery().archiveSha256());
        assertThat(one.get("objects")).extracting(i -> i.get("key").asText()).containsExactly("users/7/a.jpg", "users/7/b.jpg");
        assertThat(one.at("/objects/0/sha256").asText()).isEqualTo(dev.bunker.store.Sha256.hexOf("a.jpg".getBytes(StandardCharsets.UTF_8)));
        assertThat(one.get("objectsNext").asText()).isEqualTo("users/7/b.jpg");
        JsonNode rest = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports/deliveries/" + first.delivery().id() + "?limit=2&objects-after=users%2F7%2Fb.jpg",
                null).body());
        assertThat(rest.get("objects")).extracting(i -> i.get("key").asText()).containsExactly("users/7/c.jpg");
        assertThat(rest.get("objectsNext").isNull()).isTrue();
        JsonNode later = Json.MAPPER.readTree(send(viewer, "GET", "/v1/exports/deliveries/" + second.delivery().id(), null).body());
        assertThat(later.get("deleted")).extracting(i -> i.get("key").asText()).containsExactly("users/7/b.jpg");

        assertThat(send(viewer, "GET", "/v1/exports/deliveries/abc", null).statusCode()).isEqualTo(400);
        assertThat(send(viewer, "GET", "/v1/exports/deliveries/99999999999999999999", null).statusCode()).isEqualTo(400);
        assertThat(send(viewer, "GET", "/v1/exports/deliveries/424242", null).statusCode()).isEqualTo(404);
        assertThat(send(viewer, "GET", "/v1/exports/deliveries/" + first.delivery().id() + "?limit=0", null).statusCode()).isEqualTo(400);
        assertThat(send("bkr_wrong", "GET", "/v1/exports/deliveries/" + first.delivery().id(), null).statusCode()).isEqualTo(401);
    }

    @Test
    void badRequestsGetA400AndChangeNothing() throws Exception {
        for (String bad : new String[] {"not json", "[1]", "{\"name\": 5, \"prefix\": \"a/\"}", "{\"name\": \"u1\"}",
                "{\"name\": \"u1\", \"prefix\": \"../x/\"}", "{\"name\": \"U1 x\", \"prefix\": \"a/\"}",
                "{\"name\": \"u1\", \"prefix\": \"a/\", \"recipient\": \"age1-not-a-key\"}", "{\"name\": \"u1\", \"prefix\": \"a/\", \"format\": \"rar\"}"}) {
            HttpResponse<String> r = send(ops, "POST", "/v1/exports", bad);
            assertThat(r.statusCode()).as(bad + " -> " + r.body()).isEqualTo(400);
            assertThat(r.body()).doesNotContain("internal error");
        }
        assertThat(send(ops, "POST", "/v1/exports", "{\"name\": \"u1\", \"prefix\": \"" + "a".repeat(20_000) + "/\"}").statusCode()).isIn(400, 413);
        assertThat(engine.exports().ledger().subscriptions()).isEmpty();
    }

    @Test
    void theCliSaysWhatIsWrongWithExitCode2() throws Exception {
        assertThat(BunkerCommand.run("export", "--config", configFile.toString(), "--to", dir.resolve("o").toString())).isEqualTo(2);
        assertThat(BunkerCommand.run("export", "--config", configFile.toString(), "--prefix", "users/1/", "--to", dir.resolve("o").toString(),
                "--since", "yesterday")).isEqualTo(2);
        assertThat(BunkerCommand.run("export", "--config", configFile.toString(), "--prefix", "users/1/", "--to", "store:primary/x")).isEqualTo(2);
        assertThat(BunkerCommand.run("export", "subscribe", "--config", configFile.toString(), "--name", "Bad Name", "--prefix", "a/")).isEqualTo(2);
        assertThat(Files.exists(dir.resolve("o"))).isFalse();
        // And a good one from the command line: a one-off export of a prefix.
        engine.replication().ingest().put("users/1/x.txt", new ByteArrayInputStream("x".getBytes(StandardCharsets.UTF_8)), 1, null, null);
        assertThat(BunkerCommand.run("export", "--config", configFile.toString(), "--prefix", "users/1/", "--to", dir.resolve("o").toString())).isZero();
        try (var files = Files.list(dir.resolve("o"))) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).singleElement().satisfies(n -> assertThat(n).matches("export-\\d{6}\\.tar"));
        }
    }
}
