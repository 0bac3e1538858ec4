package dev.bunker.web;

import dev.bunker.config.BunkerConfig.TokenScope;
import java.util.regex.Pattern;

/**
 * One endpoint: a method, a path pattern (named groups become {@link Call#param}) and the scope a
 * token needs; a null scope marks a public route (health and metrics, outside /v1).
 */
public record Route(String method, Pattern path, TokenScope scope, Handler handler) {
    /** Answers one call. */
    @FunctionalInterface
    public interface Handler {
        void handle(Call call) throws Exception;
    }

    public static Route of(String method, String regex, TokenScope scope, Handler handler) {
        return new Route(method, Pattern.compile(regex), scope, handler);
    }
}
