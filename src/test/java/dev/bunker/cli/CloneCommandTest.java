package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bunker db clone} as a user runs it: --check, the exit codes, the summary, and no secret in the output. */
@Timeout(180)
class CloneCommandTest {
    @TempDir Path dir;

    @Test
    void checkReportsCoverageAndCloneRefusesUncoveredColumnsWithExitCode2ThenClones() throws Exception {
        CloneFixture f = CloneFixture.backedUp(dir,
                "create table people (id bigint primary key, email text unique, phone text, nickname text, score int)",
                "insert into people select g, 'p' || g || '@corp.example.org', '+44 20 ' || g, 'nick' || g, g from generate_series(1, 50) g");
        String target = "clone_cli_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        Path scrub = dir.resolve("scrub.yaml");
        Files.writeString(scrub, "public.people.email: fake-email\npublic.people.phone: hash\n");
        String[] clone = f.cloneArgs(scrub, target);

        CliTest.Result check = CliTest.run(concat(clone, "--check"));
        assertThat(check.exit()).as(check.err()).isEqualTo(2);
        assertThat(check.out()).contains("scrubbed (2): [public.people.email, public.people.phone]",
                "personal-looking and not covered (1): [public.people.nickname]", "other columns: 2", "NOT covered");
        CliTest.Result refused = CliTest.run(clone);
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("1 column(s) look personal", "public.people.nickname", "nothing was created");

        Files.writeString(scrub, "public.people.email: fake-email\npublic.people.phone: hash\npublic.people.nickname: keep\n");
        CliTest.Result covered = CliTest.run(concat(clone, "--check"));
        assertThat(covered.exit()).as(covered.err()).isZero();
        assertThat(covered.out()).contains("covered: every personal-looking column is scrubbed or kept");
        try (Connection c = f.connect("postgres");
             ResultSet rs = c.createStatement().executeQuery("select count(*) from pg_database where datname like '" + target + "%'")) {
            rs.next();
            assertThat(rs.getLong(1)).as("--check creates nothing").isZero();
        }

        CliTest.Result done = CliTest.run(clone);
        assertThat(done.exit()).as(done.err()).isZero();
        assertThat(done.out()).contains("cloned app-dump-", "2 column(s) scrubbed {fake-email=1, hash=1}", "100 values rewritten",
                "download", "post-data", "recorded in bunker_scrub.columns");
        assertThat(done.err()).contains("1 table(s) scrubbed as they load (COPY)", "public.people: 50 rows, 2 column(s) scrubbed as they loaded",
                "verifying a sample");
        assertThat(done.out() + done.err()).doesNotContain("corp.example.org");
        CliTest.Result again = CliTest.run(clone);
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("exists; pass --replace");
        CliTest.Result replaced = CliTest.run(concat(clone, "--replace", "--json"));
        assertThat(replaced.exit()).as(replaced.err()).isZero();
        var json = dev.bunker.json.Json.MAPPER.readTree(replaced.out());
        assertThat(json.get("columns")).hasSize(2);
        assertThat(json.get("columns").get(0).get("survivors").asLong()).isZero();
        assertThat(json.get("coverage").get("uncovered")).isEmpty();
        assertThat(replaced.out()).doesNotContain("corp.example.org");
        CliTest.Result help = CliTest.run("db", "--help");
        assertThat(help.out()).contains("clone");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
