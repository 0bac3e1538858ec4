package dev.bunker.cli;

import dev.bunker.config.ConfigException;
import dev.bunker.replication.Ingest;
import dev.bunker.store.InvalidKeyException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bunker} command line: one subcommand per job. */
@Command(name = "bunker",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Keeps an app's files in several object stores, one of them locked, and proves its database backups restore.",
        subcommands = {ServeCommand.class, StatusCommand.class, ReconcileCommand.class, RetryCommand.class, TrashCommand.class,
                PurgeCommand.class, DbCommand.class, DrillCommand.class, DrCommand.class, ConfigCommand.class,
                StoresCommand.class, TokenCommand.class, WalPushCommand.class,
                CommandLine.HelpCommand.class})
public final class BunkerCommand implements Runnable {
    /** Exit code for a bad configuration or bad command-line input. */
    public static final int EXIT_USAGE = 2;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new BunkerCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler(BunkerCommand::handle);
        return cli.execute(args);
    }

    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        if (e instanceof ConfigException) {
            err.println("bunker: configuration error: " + e.getMessage());
            err.flush();
            return EXIT_USAGE;
        }
        if (e instanceof CommandLine.ParameterException) throw (CommandLine.ParameterException) e;
        // Bad input from the command line is a usage error, like a bad option; everything else is work that failed.
        boolean usage = e instanceof InvalidKeyException || (e instanceof Ingest.Rejected r && r.reason() == Ingest.Rejected.Reason.INVALID)
                || (e instanceof dev.bunker.pitr.PitrException p && p.callersFault());
        err.println("bunker " + cmd.getCommandName() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        if (System.getenv("BUNKER_DEBUG") != null) e.printStackTrace(err);
        else err.println("(set BUNKER_DEBUG=1 for the stack trace)");
        err.flush();
        return usage ? EXIT_USAGE : 1;
    }
}
