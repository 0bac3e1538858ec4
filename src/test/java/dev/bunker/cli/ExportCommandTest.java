package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.testing.ConfigFiles;
import dev.bunker.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bunker export} refusals as a user meets them: exit 2, what is wrong, and nothing written. */
@Timeout(120)
class ExportCommandTest {
    @TempDir Path dir;

    @Test
    void requestsThatCannotBeMadeAsAskedExitWith2AndWriteNothing() throws Exception {
        Path config = ConfigFiles.write(dir, TestDatabase.fresh(), "");
        String[] base = {"--config", config.toString(), "--data-dir", dir.resolve("data").toString()};
        Path out = dir.resolve("out");

        CliTest.Result unknown = CliTest.run(concat(new String[] {"export", "--subscription", "nosuch", "--to", out.toString()}, base));
        assertThat(unknown.exit()).as(unknown.err()).isEqualTo(2);
        assertThat(unknown.err()).contains("no export subscription named 'nosuch'", "bunker export subscribe");

        CliTest.Result show = CliTest.run(concat(new String[] {"export", "show", "nosuch"}, base));
        assertThat(show.exit()).as(show.err()).isEqualTo(2);

        CliTest.Result subscribed = CliTest.run(concat(new String[] {"export", "subscribe", "--name", "u1", "--prefix", "users/1/"}, base));
        assertThat(subscribed.exit()).as(subscribed.err()).isZero();
        CliTest.Result taken = CliTest.run(concat(new String[] {"export", "subscribe", "--name", "u1", "--prefix", "users/2/"}, base));
        assertThat(taken.exit()).isEqualTo(2);
        assertThat(taken.err()).contains("exists already");

        CliTest.Result since = CliTest.run(concat(new String[] {"export", "--subscription", "u1", "--since", "last", "--to", out.toString()}, base));
        assertThat(since.exit()).isEqualTo(2);
        assertThat(since.err()).contains("--since goes with one-off exports only");
        assertThat(Files.exists(out)).isFalse();
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
