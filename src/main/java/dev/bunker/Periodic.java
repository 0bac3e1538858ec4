package dev.bunker;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/** Runs a background task of {@code serve} on its own daemon thread; a failed run is logged and retried next time. */
public final class Periodic {
    /** One run of the task. */
    @FunctionalInterface
    public interface Task {
        void run() throws Exception;
    }

    private Periodic() {}

    /** With a fixed delay between the end of one run and the start of the next. */
    public static ScheduledExecutorService start(String name, Duration first, Duration every, Logger log, Task task) {
        ScheduledExecutorService s = executor(name);
        s.scheduleWithFixedDelay(guarded(name, log, task), first.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }

    /** At a fixed rate (runs start {@code every} apart, whatever each takes), for samples that must not drift. */
    public static ScheduledExecutorService atFixedRate(String name, Duration first, Duration every, Logger log, Task task) {
        ScheduledExecutorService s = executor(name);
        s.scheduleAtFixedRate(guarded(name, log, task), first.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }

    private static ScheduledExecutorService executor(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    private static Runnable guarded(String name, Logger log, Task task) {
        return () -> {
            try {
                task.run();
            } catch (Exception e) {
                log.warn("{} failed, will retry: {}", name, e.toString());
            }
        };
    }
}
