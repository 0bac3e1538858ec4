package dev.bunker.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.json.Json;
import dev.bunker.store.LocalStore;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.ServeProcess;
import dev.bunker.backup.TempFolders;
import dev.bunker.testing.TestDatabase;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runbook's commands for "primary store lost" and "database lost", taken from {@code bin/bunker dr runbook --format json}
 * and run by bash exactly as printed, from a folder whose {@code bin/bunker} starts this build's CLI: the primary's objects
 * come back byte for byte from the replicas, and the dropped database comes back with every row.
 */
@Timeout(300)
class RunbookTest {
    @TempDir Path dir;
    ServeProcess serve;
    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() throws Exception {
        if (serve != null) serve.close();
    }

    /** {@code bin/bunker} in the test's folder: this build's CLI, as the real launcher starts it from a checkout. */
    void launcher() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path script = bin.resolve("bunker");
        Files.writeString(script, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' -Xmx512m -cp '" + System.getProperty("java.class.path") + "' "
                + BunkerCommand.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    }

    /** Runs one printed command with bash in the test's folder; it must succeed. */
    String sh(String command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(command + "\n" + out).isZero();
        return out;
    }

    /** The commands of one scenario's section, in order, as the runbook prints them for {@code config}. */
    List<String> commands(Path config, String scenario) throws Exception {
        JsonNode book = Json.MAPPER.readTree(sh("bin/bunker dr runbook --format json --config " + config, Map.of()));
        List<String> out = new ArrayList<>();
        for (JsonNode s : book.get("scenarios")) {
            if (!s.get("id").asText().equals(scenario)) continue;
            for (JsonNode step : s.get("steps")) if (!step.get("command").isNull()) out.add(step.get("command").asText());
        }
        assertThat(out).as("commands of " + scenario).isNotEmpty();
        return out;
    }

    HttpResponse<byte[]> get(String key, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(serve.uri().resolve("/v1/objects/" + key)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void primaryStoreLostTheRunbooksCommandsBringEveryObjectBackToIt() throws Exception {
        launcher();
        // serve's first object drill (30 s after it starts) repairs the copies it samples: one, so it cannot stand in for the runbook.
        Path config = ConfigFiles.write(dir, TestDatabase.fresh(), "drills: {objects: {sample: 1}}");
        serve = ServeProcess.start(dir, "--config", config.toString(), "--listen", "127.0.0.1:0");
        String token = Files.readString(dir.resolve("bunker-data/admin-token")).strip();
        Map<String, byte[]> objects = new LinkedHashMap<>();
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 12; i++) {
            byte[] b = new byte[1 + random.nextInt(200_000)];
            random.nextBytes(b);
            objects.put("users/7/photo-" + i + ".jpg", b);
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(serve.uri().resolve("/v1/objects/users/7/photo-" + i + ".jpg"))
                    .header("Authorization", "Bearer " + token).PUT(HttpRequest.BodyPublishers.ofByteArray(b)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        }
        awaitReplicated(token, objects.size());

        // The disaster: the primary's folder is lost; an empty one of the same name takes its place.
        TempFolders.deleteTree(dir.resolve("primary"));
        Files.createDirectories(dir.resolve("primary"));

        for (String command : commands(config, "primary-store")) sh(command, Map.of());

        // Checked in the primary's folder itself: a read through the API would have the read path repair the primary on its own.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        for (Map.Entry<String, byte[]> o : objects.entrySet()) {
            Path file = new LocalStore("primary", dir.resolve("primary"), Clock.systemUTC()).pathOf(o.getKey());
            while (!Files.exists(file) && System.nanoTime() < deadline) Thread.sleep(200);
            assertThat(file).as(o.getKey()).exists();
            assertThat(Files.readAllBytes(file)).as(o.getKey()).isEqualTo(o.getValue());
        }
    }

    void awaitReplicated(String token, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode st = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(serve.uri().resolve("/v1/status")).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            if (st.at("/copies/vault/verified").asLong() == n && st.at("/copies/shelter/verified").asLong() == n) return;
            Thread.sleep(200);
        }
        throw new AssertionError("not replicated in 60 s");
    }

    @Test
    void databaseLostTheRunbooksCommandsRestoreEveryRow() throws Exception {
        launcher();
        AppDatabases.App app = AppDatabases.create(50, 300);
        Path key = dir.resolve("backup-key.txt");
        String recipient = AppDatabases.ageKey(key);
        Path config = ConfigFiles.write(dir, TestDatabase.fresh(), """
                backups:
                  recipients: ["%s"]
                  stores: [vault, shelter]
                  sources:
                    app: {url: "%s", user: %s}
                drills:
                  db: {identity: %s}
                """.formatted(recipient, app.db().url(), app.role(), key));
        sh("bin/bunker db backup --source app --config " + config, Map.of());

        // The disaster: the database is dropped.
        String name = app.db().url().replaceAll(".*/([^/?]+)(\\?.*)?$", "$1");
        String admin = app.db().url().replace("/" + name, "/postgres");
        try (Connection c = DriverManager.getConnection(admin, app.db().user(), null); Statement s = c.createStatement()) {
            s.execute("drop database " + name + " with (force)");
        }

        List<String> commands = commands(config, "database");
        assertThat(String.join("\n", commands)).contains("createdb").contains("db restore").contains("--identity " + key.toAbsolutePath());
        for (String command : commands) sh(command, Map.of("PGUSER", app.db().user()));

        try (Connection c = DriverManager.getConnection(app.db().url(), app.db().user(), null); Statement s = c.createStatement()) {
            assertThat(count(s, "select count(*) from users")).isEqualTo(50);
            assertThat(count(s, "select count(*) from events")).isEqualTo(300);
            assertThat(count(s, "select count(distinct email) from users where email like 'u%@example.com'")).isEqualTo(50);
        }
    }

    static long count(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
