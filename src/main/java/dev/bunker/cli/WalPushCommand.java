package dev.bunker.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bunker wal push}: listed here so help shows it, but {@code bin/bunker} runs it as a shell script (curl, no JVM:
 * PostgreSQL runs it for every segment); reaching this class means the jar was started directly.
 */
@Command(name = "wal", mixinStandardHelpOptions = true,
        description = "wal push --url URL --source S --token-file F %%p: PostgreSQL's archive_command for a source with pitr: {wal: archive}; "
                + "sends the segment to serve and succeeds once it is in every backup store. Run through bin/bunker (or bin/bunker-wal-push "
                + "copied to the database host): it starts no JVM.")
public final class WalPushCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", hidden = true)
    List<String> args;

    @Override
    public Integer call() {
        System.err.println("bunker wal push runs as a script, not in Java: use bin/bunker wal push ... (or bin/bunker-wal-push) as the "
                + "server's archive_command; see README, \"Point-in-time recovery\"");
        return BunkerCommand.EXIT_USAGE;
    }
}
