package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.replication.Replication;
import dev.bunker.testing.TestConfigs;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Trash, restore and empty over HTTP, with the scopes an app and an operator would have. */
@Timeout(60)
class LifecycleApiTest {
    @TempDir Path dir;
    Bunker bunker;
    Replication replication;
    Lifecycle lifecycle;
    dev.bunker.Engine engine;
    HttpApi api;
    final String app = Tokens.newToken();
    final String ops = Tokens.newToken();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        BunkerConfig base = TestConfigs.threeLocalStores(dir);
        BunkerConfig config = new BunkerConfig(base.source(), base.dataDir(), base.listen(), base.database(), base.stores(), base.replication(),
                new BunkerConfig.ApiConfig(Map.of("app", new TokenConfig("app", TokenScope.WRITE, Tokens.hash(app)),
                        "ops", new TokenConfig("ops", TokenScope.ADMIN, Tokens.hash(ops)))), base.lifecycle(), base.backups());
        bunker = Bunker.open(config, Clock.systemUTC());
        engine = dev.bunker.Engine.on(bunker);
        replication = engine.replication();
        lifecycle = engine.lifecycle();
        api = new HttpApi(config.listen(), Tokens.load(config.api(), dir), 4).add(StatusRoutes.of(engine, new dev.bunker.history.Series(engine.bunker().database().dataSource())))
                .add(LifecycleRoutes.of(lifecycle, replication.keyLimits())).add(ObjectRoutes.of(replication));
        api.start();
    }

    @AfterEach
    void stop() {
        api.stop(0);
        engine.close();
        bunker.close();
    }

    HttpResponse<String> send(String token, String method, String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(api.uri().resolve(path)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void deleteTrashesRestoreBringsBackAndOnlyAdminsEmptyTheTrash() throws Exception {
        assertThat(send(app, "PUT", "/v1/objects/notes/a.txt", "hello".getBytes()).statusCode()).isEqualTo(201);
        HttpResponse<String> del = send(app, "DELETE", "/v1/objects/notes/a.txt", null);
        assertThat(del.statusCode()).isEqualTo(202);
        assertThat(del.body()).contains("\"state\" : \"trashed\"", "restorableUntil");
        HttpResponse<String> gone = send(app, "GET", "/v1/objects/notes/a.txt", null);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(gone.body()).contains("in the trash");
        assertThat(send(app, "GET", "/v1/trash", null).body()).contains("\"key\" : \"notes/a.txt\"", "permanentAt");

        assertThat(send(app, "POST", "/v1/objects/notes/a.txt/restore", null).statusCode()).isEqualTo(200);
        assertThat(send(app, "GET", "/v1/objects/notes/a.txt", null).body()).isEqualTo("hello");
        assertThat(send(app, "POST", "/v1/objects/notes/a.txt/restore", null).statusCode()).isEqualTo(409);

        send(app, "DELETE", "/v1/objects/notes/a.txt", null);
        assertThat(send(app, "POST", "/v1/trash/empty", null).statusCode()).isEqualTo(403);
        HttpResponse<String> emptied = send(ops, "POST", "/v1/trash/empty?key=notes/a.txt", null);
        assertThat(emptied.statusCode()).isEqualTo(202);
        assertThat(emptied.body()).contains("notes/a.txt");
        assertThat(send(app, "POST", "/v1/objects/notes/a.txt/restore", null).body()).contains("can no longer be restored");
        assertThat(send(app, "DELETE", "/v1/objects/never", null).statusCode()).isEqualTo(404);
        assertThat(send(app, "GET", "/v1/status", null).body()).contains("\"deleting\" : 1", "\"deletionBrake\" : \"ok\"");
        assertThat(lifecycle.audit().forKey("notes/a.txt")).extracting(e -> e.actor()).contains("api:app", "api:ops");
    }
}
