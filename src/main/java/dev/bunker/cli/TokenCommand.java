package dev.bunker.cli;

import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.web.Tokens;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bunker token create}: make an API token and the config line that accepts it. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Make API tokens.", subcommands = TokenCommand.Create.class)
public final class TokenCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Print a new random token and the config entry (its SHA-256 only) that accepts it.")
    static final class Create implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "Token name, shown in audit records (e.g. app, ops).")
        String name;

        @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                description = "read (GET only), write (read + upload and trash) or admin (everything).")
        TokenScope scope;

        @Override
        public Integer call() {
            String token = Tokens.newToken();
            System.out.println("token: " + token);
            System.out.println();
            System.out.println("Give the token to its user; put only this in bunker.yaml:");
            System.out.println("api:");
            System.out.println("  tokens:");
            System.out.println("    " + name + ": {scope: " + scope.name().toLowerCase() + ", sha256: " + Tokens.hash(token) + "}");
            return 0;
        }
    }
}
