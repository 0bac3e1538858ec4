package dev.bunker;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/** Runs a background task of {@code serve} on its own daemon thread, with a fixed delay between runs; a failed run is logged and retried next time. */
public final class Periodic {
    /** One run of the task. */
    @FunctionalInterface
    public interface Task {
        void run() throws Exception;
    }

    private Periodic() {}

    public static ScheduledExecutorService start(String name, Duration first, Duration every, Logger log, Task task) {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        s.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (Exception e) {
                log.warn("{} failed, will retry: {}", name, e.toString());
            }
        }, first.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }
}
