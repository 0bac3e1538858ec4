package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.replication.ReplicationJobs;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bunker retry}: put failed replication jobs back in the queue. */
@Command(name = "retry", mixinStandardHelpOptions = true,
        description = "Re-drive replication jobs that gave up after their attempts: all of them, or one key's.")
public final class RetryCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Parameters(arity = "0..1", paramLabel = "KEY", description = "Only this object's job (default: every failed job).")
    String key;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC())) {
            int n = new ReplicationJobs(bunker.database().dataSource(), bunker.clock()).retryFailed(key);
            System.out.println(json ? "{\"requeued\": " + n + "}" : n + " failed job(s) put back in the queue");
            return 0;
        }
    }
}
