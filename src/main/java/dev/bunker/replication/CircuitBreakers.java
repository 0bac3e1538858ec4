package dev.bunker.replication;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One circuit breaker per store, per process: after {@code threshold} failures in a row the store is
 * skipped for {@code cooldown}, so one dead cloud does not stall copies to the others. The first
 * copy after the cooldown is the probe: success closes the breaker, failure opens it again.
 */
public final class CircuitBreakers {
    private record State(int failures, Instant openUntil) {}

    private final int threshold;
    private final Duration cooldown;
    private final Clock clock;
    private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

    public CircuitBreakers(int threshold, Duration cooldown, Clock clock) {
        this.threshold = threshold;
        this.cooldown = cooldown;
        this.clock = clock;
    }

    /** When the store may be tried again, if its breaker is open now. */
    public Optional<Instant> openUntil(String store) {
        State s = states.get(store);
        if (s == null || s.openUntil() == null || !s.openUntil().isAfter(clock.instant())) return Optional.empty();
        return Optional.of(s.openUntil());
    }

    public void success(String store) {
        states.remove(store);
    }

    public void failure(String store) {
        states.compute(store, (k, s) -> {
            int n = (s == null ? 0 : s.failures()) + 1;
            return new State(n, n >= threshold ? clock.instant().plus(cooldown) : null);
        });
    }

    /** Names of the stores whose breaker is open now. */
    public java.util.Set<String> open() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String s : states.keySet()) if (openUntil(s).isPresent()) out.add(s);
        return out;
    }
}
