package dev.bunker.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Probes stores ({@link Store#probe}, plus the Object Lock check for locked stores) in parallel, with a deadline. */
public final class StoreHealth {
    /** One store's answer: ok, how long it took, and what failed if not. */
    public record Result(String store, boolean ok, long latencyMillis, String error) {}

    private StoreHealth() {}

    public static Result check(Store store, boolean mustLock) {
        long t0 = System.nanoTime();
        try {
            store.probe();
            if (mustLock) {
                if (!(store instanceof LockableStore lockable)) {
                    throw new LockNotSupportedException(store.name(), null, "store '" + store.name() + "' cannot lock objects");
                }
                lockable.checkLockingEnabled();
            }
            return new Result(store.name(), true, (System.nanoTime() - t0) / 1_000_000, null);
        } catch (RuntimeException e) {
            return new Result(store.name(), false, (System.nanoTime() - t0) / 1_000_000, e.getMessage());
        }
    }

    /** Checks every store at once; a store that has not answered within {@code timeoutMillis} counts as failed. */
    public static List<Result> checkAll(Map<String, Store> stores, Map<String, Boolean> mustLock, long timeoutMillis) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, stores.size()), r -> {
            Thread t = new Thread(r, "store-health");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (Store s : stores.values()) futures.add(pool.submit(() -> check(s, mustLock.getOrDefault(s.name(), false))));
            List<Result> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            int i = 0;
            for (Store s : stores.values()) {
                Future<Result> f = futures.get(i++);
                try {
                    out.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (TimeoutException e) {
                    f.cancel(true);
                    out.add(new Result(s.name(), false, timeoutMillis, "no answer within " + timeoutMillis + " ms"));
                } catch (ExecutionException e) {
                    out.add(new Result(s.name(), false, 0, String.valueOf(e.getCause())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    out.add(new Result(s.name(), false, 0, "interrupted"));
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
