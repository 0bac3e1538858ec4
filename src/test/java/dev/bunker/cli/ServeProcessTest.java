package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.ServeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bunker serve} as a user runs it, in its own JVM, on the embedded default: it comes up healthy,
 * protects /v1 with the generated admin token, stops within 10 s on SIGTERM, and a second start reuses
 * the same data (database and token).
 */
@Timeout(120)
class ServeProcessTest {
    @TempDir Path dir;
    final HttpClient http = HttpClient.newHttpClient();

    ServeProcess serve() throws Exception {
        return ServeProcess.start(dir, "--data-dir", dir.resolve("data").toString(), "--listen", "127.0.0.1:0");
    }

    HttpResponse<String> get(URI uri, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri.resolve(path));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    void stopWithinTenSeconds(ServeProcess s) throws Exception {
        long t0 = System.nanoTime();
        s.process().toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        assertThat(s.process().waitFor(10, TimeUnit.SECONDS)).as("stopped within 10 s; log:\n" + s.log()).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(10_000);
        s.drain().join(5_000);
        synchronized (s.log()) {
            assertThat(s.log().toString()).as("exit " + s.process().exitValue() + " drain alive " + s.drain().isAlive()).contains("bunker: stopped");
        }
    }

    @Test
    void serveRunsOnTheEmbeddedDefaultAndASecondStartReusesItsData() throws Exception {
        ServeProcess first = serve();
        String log = first.log().toString();
        assertThat(log).contains("data:   " + dir.resolve("data"), "embedded PostgreSQL 15", "store primary", "store vault", "lock 21d",
                "store shelter", "admin API token in " + dir.resolve("data/admin-token"));
        HttpResponse<String> health = get(first.uri(), "/healthz", null);
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\" : \"ok\"");
        String token = Files.readString(dir.resolve("data/admin-token")).trim();
        assertThat(log).doesNotContain(token);
        assertThat(get(first.uri(), "/v1/stores", null).statusCode()).isEqualTo(401);
        HttpResponse<String> stores = get(first.uri(), "/v1/stores", token);
        assertThat(stores.statusCode()).isEqualTo(200);
        assertThat(stores.body()).contains("\"name\" : \"vault\"", "\"period\" : \"21d\"", "\"tier\" : \"cold\"");
        assertThat(get(first.uri(), "/metrics", null).body()).contains("jvm_");
        stopWithinTenSeconds(first);
        Instant between = Instant.now();

        ServeProcess second = serve();
        try {
            assertThat(get(second.uri(), "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(Files.readString(dir.resolve("data/admin-token")).trim()).isEqualTo(token);
            assertThat(get(second.uri(), "/v1/stores", token).statusCode()).isEqualTo(200);
            // Same database: the schema was migrated by the first run, not created again.
            List<String> pid = Files.readAllLines(dir.resolve("data/postgres/postmaster.pid"));
            String password = Files.readString(dir.resolve("data/db-password")).trim(); // the embedded server lets nobody in without it
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pid.get(3).trim() + "/postgres", "postgres", password);
                 ResultSet rs = c.createStatement().executeQuery("select min(installed_on) from bunker.flyway_schema_history")) {
                rs.next();
                Timestamp installed = rs.getTimestamp(1);
                assertThat(installed.toInstant()).isBefore(between);
                // The embedded server keeps the ledger: it must be durable (zonky's own defaults turn fsync off).
                ResultSet fsync = c.createStatement().executeQuery("select current_setting('fsync') || current_setting('synchronous_commit')");
                fsync.next();
                assertThat(fsync.getString(1)).isEqualTo("onon");
            }
        } finally {
            stopWithinTenSeconds(second);
        }
    }
}
