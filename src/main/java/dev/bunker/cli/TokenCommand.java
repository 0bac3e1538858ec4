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
                description = "read (GET only), write (read + upload and trash), admin (everything but pushing WAL) or wal-push "
                        + "(only PUT /v1/wal/SOURCE/..., for a database server's archive_command; needs --source).")
        String scopeName;

        @Option(names = "--source", paramLabel = "SOURCE", description = "For --scope wal-push: the source whose WAL the token may push.")
        String source;

        @Override
        public Integer call() {
            TokenScope scope;
            try {
                scope = TokenScope.valueOf(scopeName.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                System.err.println("bunker token create: --scope " + scopeName + " is not a scope; expected read, write, admin or wal-push");
                return 2;
            }
            if ((scope == TokenScope.WAL_PUSH) != (source != null)) {
                System.err.println("bunker token create: " + (source == null ? "--scope wal-push needs --source SOURCE (the one source whose WAL it pushes)"
                        : "--source applies to --scope wal-push only"));
                return 2;
            }
            String token = Tokens.newToken();
            System.out.println("token: " + token);
            System.out.println();
            System.out.println("Give the token to its user; put only this in bunker.yaml:");
            System.out.println("api:");
            System.out.println("  tokens:");
            System.out.println("    " + name + ": {scope: " + scope.label()
                    + (source == null ? "" : ", source: " + source) + ", sha256: " + Tokens.hash(token) + "}");
            return 0;
        }
    }
}
