package dev.bunker.export;

import dev.bunker.Periodic;
import dev.bunker.config.BunkerConfig.ExportsConfig;
import dev.bunker.export.ExportLedger.Delivery;
import dev.bunker.export.ExportLedger.Subscription;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scheduled exports in {@code serve}: once a minute, each subscription whose last delivery started {@code every} ago
 * or more (or was interrupted) gets its next delivery in {@code to}/NAME/. Several serve processes sharing the
 * database skip a subscription another is delivering (the run's lock).
 */
public final class ExportSchedule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExportSchedule.class);

    private final Exports exports;
    private final ExportsConfig config;
    private final Clock clock;
    private ScheduledExecutorService timer;

    public ExportSchedule(Exports exports, ExportsConfig config, Clock clock) {
        this.exports = exports;
        this.config = config;
        this.clock = clock;
    }

    public boolean enabled() {
        return config.every() != null;
    }

    public synchronized void start(Duration check) {
        if (!enabled() || timer != null) return;
        timer = Periodic.start("exports", check, check, LOG, this::runDue);
    }

    /** Delivers every subscription that is due; returns how many deliveries were made. */
    public int runDue() throws Exception {
        int made = 0;
        for (Subscription s : exports.ledger().subscriptions()) {
            List<Delivery> last = exports.ledger().deliveries(s.name(), 1);
            Instant now = clock.instant();
            // (a second's slack: the start is stored rounded to the microsecond, and a check a hair early would wait a whole minute)
            boolean due = last.isEmpty() || last.get(0).state().equals("running")
                    || !last.get(0).startedAt().plus(config.every()).isAfter(now.plusSeconds(1));
            if (!due) continue;
            String to = config.to().endsWith("/") ? config.to() + s.name() : config.to() + "/" + s.name();
            try {
                Exports.Result r = exports.run(new Exports.Request(s.name(), null, null, null, null, to, false), line -> { });
                LOG.info("export {}: delivery {} with {} object(s) and {} deletion(s) in {}", s.name(), r.delivery().id(), r.delivery().objects(),
                        r.delivery().deleted(), r.location());
                made++;
            } catch (ExportException e) {
                if (e.reason() != ExportException.Reason.CONFLICT) throw e;
                LOG.info("export {}: {}", s.name(), e.getMessage()); // another serve is on it, or it waits for another destination
            } catch (java.io.IOException | java.sql.SQLException | RuntimeException e) {
                LOG.warn("export {} failed; the next run resumes it: {}", s.name(), e.getMessage());
            }
        }
        return made;
    }

    @Override
    public synchronized void close() {
        if (timer != null) timer.shutdownNow();
        timer = null;
    }
}
