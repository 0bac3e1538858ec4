package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig.ApiConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dashboard sessions: they end at their expiry and at logout, and a flood of logins cannot grow them past the cap. */
class SessionsTest {
    @TempDir Path dir;

    static final TokenConfig OPS = new TokenConfig("ops", TokenScope.ADMIN, Tokens.hash("bkr_ops"));

    @Test
    void aSessionEndsAtItsExpiryAndAtLogout() {
        MutableClock clock = MutableClock.atNow();
        Tokens tokens = Tokens.load(new ApiConfig(Map.of("ops", OPS)), dir);
        Sessions sessions = new Sessions(Duration.ofHours(1), clock);
        String id = sessions.open(tokens.authenticateSecret(" bkr_ops ").orElseThrow());
        String cookie = "other=1; " + Sessions.COOKIE + "=" + id;
        assertThat(sessions.find(cookie)).contains(OPS);
        assertThat(sessions.find(Sessions.COOKIE + "=" + id + "x")).isEmpty();
        assertThat(sessions.find(Sessions.COOKIE + "=")).isEmpty();
        assertThat(sessions.find(null)).isEmpty();
        assertThat(sessions.setCookie(id, false)).contains("HttpOnly").contains("SameSite=Strict").contains("Max-Age=3600").contains("Path=/")
                .doesNotContain("Secure");
        assertThat(sessions.setCookie(id, true)).contains("; Secure");
        assertThat(sessions.setCookie(null, false)).contains("Max-Age=0");

        clock.advance(Duration.ofMinutes(59));
        assertThat(sessions.find(cookie)).isPresent();
        clock.advance(Duration.ofMinutes(2));
        assertThat(sessions.find(cookie)).isEmpty();

        String again = sessions.open(OPS);
        sessions.close(Sessions.COOKIE + "=" + again);
        assertThat(sessions.find(Sessions.COOKIE + "=" + again)).isEmpty();
        assertThat(tokens.authenticateSecret("")).isEmpty();
        assertThat(tokens.authenticateSecret("bkr_other")).isEmpty();
    }

    @Test
    void manyLoginsKeepAtMostTheCapAndTheNewestWork() {
        MutableClock clock = MutableClock.atNow();
        Sessions sessions = new Sessions(Duration.ofHours(1), clock);
        String first = sessions.open(OPS);
        String last = null;
        for (int i = 0; i < Sessions.MAX_SESSIONS + 50; i++) {
            clock.advance(Duration.ofMillis(1));
            last = sessions.open(OPS);
            assertThat(sessions.size()).isLessThanOrEqualTo(Sessions.MAX_SESSIONS);
        }
        assertThat(sessions.find(Sessions.COOKIE + "=" + last)).isPresent();
        assertThat(sessions.find(Sessions.COOKIE + "=" + first)).isEmpty(); // the oldest made room
    }
}
