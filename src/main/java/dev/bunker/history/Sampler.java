package dev.bunker.history;

import dev.bunker.Periodic;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the key figures into {@link Series} every {@code every} (in serve), at times rounded down to {@code every} so
 * that serve processes sharing a database write each sample time once, and prunes what is older than {@code keep}.
 */
public final class Sampler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sampler.class);

    /** Reads the figures to record, by name. */
    @FunctionalInterface
    public interface Figures {
        Map<String, Double> read() throws Exception;
    }

    private final Series series;
    private final Figures figures;
    private final Clock clock;
    private final Duration every;
    private final Duration keep;
    private ScheduledExecutorService schedule;

    public Sampler(Series series, Figures figures, Clock clock, Duration every, Duration keep) {
        this.series = series;
        this.figures = figures;
        this.clock = clock;
        this.every = every;
        this.keep = keep;
    }

    /** Takes one sample now and prunes; returns the sample time. */
    public Instant sampleOnce() throws Exception {
        Instant now = clock.instant();
        long step = every.toMillis();
        Instant at = Instant.ofEpochMilli(now.toEpochMilli() / step * step);
        series.record(at, figures.read());
        series.prune(now.minus(keep));
        return at;
    }

    /**
     * Samples at a fixed rate, a little after each period's boundary: a slow run does not push the next ones later, so no
     * sample time is skipped (a skipped one would halve the copy rate the page computes across it).
     */
    public synchronized void start() {
        if (schedule != null) return;
        long step = every.toMillis();
        long now = clock.instant().toEpochMilli();
        long first = step - now % step + Math.min(step / 10, 500);
        schedule = Periodic.atFixedRate("history", Duration.ofMillis(first), every, LOG, this::sampleOnce);
    }

    @Override
    public synchronized void close() {
        if (schedule != null) schedule.shutdownNow();
        schedule = null;
    }
}
