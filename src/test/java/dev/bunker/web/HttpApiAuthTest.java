package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig.ApiConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every /v1 route needs a bearer token of a sufficient scope: 401 without one, 403 with too little. */
@Timeout(30)
class HttpApiAuthTest {
    @TempDir Path dataDir;
    final String readToken = Tokens.newToken();
    final String writeToken = Tokens.newToken();
    final String adminToken = Tokens.newToken();
    HttpApi api;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        Map<String, TokenConfig> tokens = new LinkedHashMap<>();
        tokens.put("reader", new TokenConfig("reader", TokenScope.READ, Tokens.hash(readToken)));
        tokens.put("app", new TokenConfig("app", TokenScope.WRITE, Tokens.hash(writeToken)));
        tokens.put("ops", new TokenConfig("ops", TokenScope.ADMIN, Tokens.hash(adminToken)));
        api = new HttpApi(new HostPort("127.0.0.1", 0), Tokens.load(new ApiConfig(tokens), dataDir), 4).add(List.of(
                Route.of("GET", "/v1/thing", TokenScope.READ, c -> c.json(200, Map.of("caller", c.callerName()))),
                Route.of("PUT", "/v1/thing", TokenScope.WRITE, c -> c.json(201, Map.of("caller", c.callerName()))),
                Route.of("POST", "/v1/admin-thing", TokenScope.ADMIN, c -> c.json(200, Map.of("caller", c.callerName()))),
                Route.of("GET", "/public", null, c -> c.text(200, "text/plain", "hi"))));
        api.start();
    }

    @AfterEach
    void stop() {
        api.stop(0);
    }

    HttpResponse<String> call(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.uri().resolve(path)).method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aMissingOrUnknownTokenIs401() throws Exception {
        assertThat(call("GET", "/v1/thing", null).statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = call("GET", "/v1/thing", "bkr_not-a-real-token");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("missing or invalid API token");
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    }

    @Test
    void aTokenWithTooSmallAScopeIs403() throws Exception {
        HttpResponse<String> r = call("PUT", "/v1/thing", readToken);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("token 'reader' has scope read").contains("needs write");
        assertThat(call("POST", "/v1/admin-thing", writeToken).statusCode()).isEqualTo(403);
    }

    @Test
    void eachScopeIncludesTheOnesBelowIt() throws Exception {
        assertThat(call("GET", "/v1/thing", readToken).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/v1/thing", writeToken).body()).contains("\"app\"");
        assertThat(call("PUT", "/v1/thing", writeToken).statusCode()).isEqualTo(201);
        assertThat(call("PUT", "/v1/thing", adminToken).statusCode()).isEqualTo(201);
        assertThat(call("POST", "/v1/admin-thing", adminToken).statusCode()).isEqualTo(200);
    }

    @Test
    void publicRoutesNeedNoTokenAndUnknownOnesAre404Or405() throws Exception {
        assertThat(call("GET", "/public", null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/nowhere", null).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/thing", adminToken).statusCode()).isEqualTo(405);
    }

    @Test
    void withNoTokensConfiguredAnAdminTokenIsGeneratedOnceIntoAPrivateFile() throws Exception {
        Path dir = dataDir.resolve("fresh");
        Tokens first = Tokens.load(new ApiConfig(Map.of()), dir);
        Path file = first.generatedFile().orElseThrow();
        assertThat(file).isEqualTo(dir.resolve("admin-token"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String token = Files.readString(file).trim();
        assertThat(first.authenticate("Bearer " + token)).hasValueSatisfying(t -> assertThat(t.scope()).isEqualTo(TokenScope.ADMIN));
        Tokens second = Tokens.load(new ApiConfig(Map.of()), dir);
        assertThat(Files.readString(file).trim()).isEqualTo(token);
        assertThat(second.authenticate("Bearer " + token)).isPresent();
        assertThat(second.authenticate("Bearer x" + token)).isEmpty();
    }

    @Test
    void onlyHashesAreKept() {
        assertThat(Tokens.hash(readToken)).hasSize(64).doesNotContain(readToken);
        assertThat(URI.create("http://x").getHost()).isEqualTo("x");
    }
}
