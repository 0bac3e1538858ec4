package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.alert.Webhooks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** No secret in output or logs: webhook tokens and database passwords are masked wherever Bunker prints a URL. */
@Timeout(60)
class SecretsInOutputTest {
    static final String HOOK_TOKEN = "T000/B000/XyzSecretHookToken";
    static final String DB_SECRET = "s3cr3t-db-pass";
    @TempDir Path dir;

    @Test
    void configCheckMasksWebhookTokensAndDatabasePasswordsWhereverTheyAre() throws Exception {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, "database: {url: \"postgresql://bunker:" + DB_SECRET + "@db.internal:5432/bunker?sslmode=require&password=" + DB_SECRET + "\"}\n"
                + "alerts: {webhooks: [\"https://hooks.slack.com/services/" + HOOK_TOKEN + "?x=1\"]}\n");
        for (String format : new String[] {"--json", "--config"}) {
            CliTest.Result r = format.equals("--json") ? CliTest.run("config", "check", "--config", f.toString(), "--json")
                    : CliTest.run("config", "check", "--config", f.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out() + r.err()).doesNotContain(DB_SECRET).doesNotContain("XyzSecretHookToken")
                    .contains("https://hooks.slack.com/…").contains("db.internal:5432");
        }
    }

    @Test
    void aDatabaseUrlWhosePasswordHoldsARawAtOrSlashIsRefusedWithExit2AndNotPrinted() throws Exception {
        String backups = "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], sources: {app: {url: \"URL\"}}}\n";
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, backups.replace("URL", "postgresql://bk:" + DB_SECRET + "@x@db.internal/app"));
        CliTest.Result load = CliTest.run("config", "check", "--config", bad.toString());
        assertThat(load.exit()).isEqualTo(2);
        assertThat(load.err()).contains("backups.sources.app.url").contains("cannot read the host");
        assertThat(load.out() + load.err()).doesNotContain(DB_SECRET);

        Path ok = dir.resolve("bunker.yaml");
        Files.writeString(ok, backups.replace("URL", "postgresql://bk@127.0.0.1:5432/app"));
        Path key = dir.resolve("key.txt");
        Files.writeString(key, "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n");
        for (String target : new String[] {"postgresql://dev:" + DB_SECRET + "@x@db.internal/devdb", "postgresql://dev:" + DB_SECRET + "/x@db.internal/devdb"}) {
            CliTest.Result restore = CliTest.run("db", "restore", "--config", ok.toString(), "--data-dir", dir.resolve("data").toString(),
                    "--backup", "latest", "--identity", key.toString(), "--target", target);
            CliTest.Result clone = CliTest.run("db", "clone", "--config", ok.toString(), "--data-dir", dir.resolve("data").toString(),
                    "--source", "app", "--identity", key.toString(), "--scrub", dir.resolve("scrub.yaml").toString(), "--target", target);
            for (CliTest.Result r : List.of(restore, clone)) {
                assertThat(r.exit()).as(r.err()).isEqualTo(2);
                assertThat(r.err()).contains("--target: cannot read the host").contains("db.internal/devdb");
                assertThat(r.out() + r.err()).doesNotContain(DB_SECRET);
            }
        }
    }

    @Test
    void aFailingWebhookIsLoggedWithoutItsToken() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        boolean sent;
        try {
            sent = new Webhooks(List.of("http://127.0.0.1:" + closedPort + "/hooks/" + HOOK_TOKEN)).send(Map.of("alert", "test"));
        } finally {
            System.setErr(old);
        }
        assertThat(sent).isFalse();
        String text = log.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("webhook http://127.0.0.1:" + closedPort + "/… failed (try 3 of 3)").doesNotContain("XyzSecretHookToken");
    }
}
