package dev.bunker.cli;

import dev.bunker.config.ConfigException;
import dev.bunker.replication.Ingest;
import dev.bunker.store.InvalidKeyException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bunker} command line: one subcommand per job. */
@Command(name = "bunker",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Keeps an app's files in several object stores, one of them locked, and proves its database backups restore.")
public final class BunkerCommand implements Runnable {
    /** Exit code for a bad configuration or bad command-line input. */
    public static final int EXIT_USAGE = 2;
    static final List<Class<?>> SUBCOMMANDS = List.of(ServeCommand.class, StatusCommand.class, ReconcileCommand.class, RetryCommand.class,
            TrashCommand.class, PurgeCommand.class, DbCommand.class, DrillCommand.class, DrCommand.class, ConfigCommand.class, StoresCommand.class,
            TokenCommand.class, WalPushCommand.class, ExportCommand.class, CommandLine.HelpCommand.class);

    @Override
    public void run() {
        commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * The command line with the subcommand {@code args} names, or with all of them (for help and unknown names): picocli
     * reads every option of every command it is given by reflection, which took a tenth of a second of each command's start.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new BunkerCommand());
        String first = args.length > 0 ? args[0] : null;
        boolean named = SUBCOMMANDS.stream().anyMatch(c -> c != CommandLine.HelpCommand.class && nameOf(c).equals(first));
        for (Class<?> c : SUBCOMMANDS) {
            if (!named || nameOf(c).equals(first)) cli.addSubcommand(c);
        }
        return cli;
    }

    private static String nameOf(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    public static int run(String... args) {
        CommandLine cli = commandLine(args);
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
                || (e instanceof dev.bunker.pitr.PitrException p && p.callersFault())
                || e instanceof dev.bunker.export.ExportException // refused as asked (invalid, no such subscription, a conflict): nothing changed
                || (e instanceof dev.bunker.clone.CloneException c && c.callersFault());
        err.println("bunker " + cmd.getCommandName() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        if (System.getenv("BUNKER_DEBUG") != null) e.printStackTrace(err);
        else err.println("(set BUNKER_DEBUG=1 for the stack trace)");
        err.flush();
        return usage ? EXIT_USAGE : 1;
    }
}
