package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: help everywhere, exit code 2 and the field's name for a bad config. */
@Timeout(60)
class CliTest {
    @TempDir Path dir;

    record Result(int exit, String out, String err) {}

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = BunkerCommand.run(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void helpListsTheCommandsAndEveryCommandHasHelp() {
        Result top = run("--help");
        assertThat(top.exit()).isZero();
        assertThat(top.out()).contains("serve", "config", "stores", "token");
        for (String[] cmd : new String[][] {{"serve", "--help"}, {"config", "check", "--help"}, {"stores", "--help"}, {"token", "create", "--help"}}) {
            Result r = run(cmd);
            assertThat(r.exit()).as(String.join(" ", cmd)).isZero();
            assertThat(r.out()).as(String.join(" ", cmd)).contains("Usage: bunker " + cmd[0]);
        }
        assertThat(run("serve", "--help").out()).contains("--config", "--data-dir", "--listen");
        // Each command builds only its own subcommand; help and unknown names still see them all.
        Result none = run();
        assertThat(none.out()).contains("serve", "db", "wal", "help", "--token-file F %p");
        assertThat(none.err()).doesNotContain("picocli WARN");
        assertThat(run("help", "db").out()).contains("Usage: bunker db", "restore", "timeline");
        Result unknown = run("nosuch");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("Unmatched argument at index 0: 'nosuch'").doesNotContain("picocli WARN");
    }

    @Test
    void aRestoreToAPositionThatIsNoLsnOrWithAnotherTargetExitsWith2() {
        Result bad = run("db", "restore", "--source", "app", "--to-lsn", "3000190", "--target-dir", dir.resolve("r").toString(),
                "--identity", dir.resolve("key.txt").toString(), "--data-dir", dir.resolve("d").toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--to-lsn: \"3000190\" is not a WAL position (an LSN such as 0/3000148)");
        Result both = run("db", "restore", "--source", "app", "--to-lsn", "0/3000190", "--to-time", "latest", "--target-dir", dir.resolve("r").toString(),
                "--identity", dir.resolve("key.txt").toString(), "--data-dir", dir.resolve("d").toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("give one of --backup ID|latest, --to-time TIME or --to-lsn LSN");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    @Test
    void aBadConfigExitsWith2AndNamesTheFileAndField() throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "stores:\n  primary: {type: local, path: ./p}\n  vault: {type: local, path: ./v, lock: {period: 3 weeks}}\n");
        for (String[] cmd : new String[][] {{"config", "check"}, {"serve"}, {"stores"}}) {
            String[] args = new String[cmd.length + 2];
            System.arraycopy(cmd, 0, args, 0, cmd.length);
            args[cmd.length] = "--config";
            args[cmd.length + 1] = f.toString();
            Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", cmd)).isEqualTo(2);
            assertThat(r.err()).contains(f + ": stores.vault.lock.period: \"3 weeks\" is not a duration");
        }
    }

    @Test
    void configCheckPrintsTheEffectiveConfigWithSecretsMasked() throws Exception {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, """
                database: {url: "postgresql://127.0.0.1:5432/bunker", user: bunker, password: "hunter2"}
                stores:
                  primary: {type: local, path: ./p}
                  shelter: {type: s3, bucket: shelter, access-key: AKIAXXXX, secret-key: topsecret, tier: cold}
                """);
        Result r = run("config", "check", "--config", f.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("url: jdbc:postgresql://127.0.0.1:5432/bunker", "bucket: shelter", "********")
                .doesNotContain("hunter2", "topsecret", "AKIAXXXX");
        assertThat(r.err()).contains("config OK");
        assertThat(run("config", "check", "--config", f.toString(), "--json").out()).contains("\"bucket\" : \"shelter\"");
    }

    @Test
    void tokenCreatePrintsATokenAndOnlyItsHashForTheConfig() {
        Result r = run("token", "create", "app", "--scope", "write");
        assertThat(r.exit()).isZero();
        String token = r.out().lines().filter(l -> l.startsWith("token: ")).findFirst().orElseThrow().substring(7);
        assertThat(r.out()).contains("app: {scope: write, sha256: " + dev.bunker.web.Tokens.hash(token) + "}");
        assertThat(run("token", "create", "app", "--scope", "root").exit()).isEqualTo(2);
    }

    @Test
    void backupAndDrillCommandsSayWhatConfigTheyNeed() throws Exception {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, "stores:\n  primary: {type: local, path: ./p}\n");
        Result backup = run("db", "backup", "--config", f.toString());
        assertThat(backup.exit()).isEqualTo(2);
        assertThat(backup.err()).contains("backups.sources: no backup sources configured");
        Result drill = run("drill", "db", "--config", f.toString());
        assertThat(drill.exit()).isEqualTo(2);
        assertThat(drill.err()).contains("drills.db.identity: missing");
        Files.writeString(f, "stores:\n  primary: {type: local, path: ./p}\nbackups: {recipients: [AGE-SECRET-KEY-1XYZ]}\n");
        assertThat(run("config", "check", "--config", f.toString()).err()).contains("backups.recipients[0]").contains("is not an age public key");
        Files.writeString(f, "stores:\n  primary: {type: local, path: ./p}\nbackups: {dump: {keep: 1d, lock: 25d}}\n");
        assertThat(run("config", "check", "--config", f.toString()).err()).contains("backups.dump.keep: 1d is shorter than the lock (25d)");
        for (String[] cmd : new String[][] {{"db", "--help"}, {"db", "restore", "--help"}, {"drill", "--help"}, {"dr", "--help"}, {"trash", "--help"},
                {"purge", "--help"}, {"reconcile", "--help"}, {"status", "--help"}, {"retry", "--help"}}) {
            assertThat(run(cmd).exit()).as(String.join(" ", cmd)).isZero();
        }
    }

    @Test
    void storesChecksEveryStore() throws Exception {
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, "stores:\n  primary: {type: local, path: ./p}\n  vault: {type: local, path: ./v, lock: {period: 1d}}\n");
        Result r = run("stores", "--config", f.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("primary", "vault", "compliance lock", "ok (");
    }
}
