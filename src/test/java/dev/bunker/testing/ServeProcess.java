package dev.bunker.testing;

import dev.bunker.cli.BunkerCommand;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** {@code bunker serve} in a JVM of its own, as a user starts it: up when it prints "serving http://..."; its output kept in {@link #log}. */
public record ServeProcess(Process process, URI uri, StringBuilder log, Thread drain) implements AutoCloseable {
    /** Starts {@code serve ARGS} in {@code dir} and waits (up to 90 s) until it serves. */
    public static ServeProcess start(Path dir, String... args) throws Exception {
        String[] all = new String[args.length + 1];
        all[0] = "serve";
        System.arraycopy(args, 0, all, 1, args.length);
        Process p = ChildJvm.builder(BunkerCommand.class, all).directory(dir.toFile()).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String line;
        while ((line = r.readLine()) != null) {
            log.append(line).append('\n');
            int i = line.indexOf("serving http://");
            if (i >= 0) {
                URI uri = URI.create(line.substring(i + "serving ".length()).split(" ")[0]);
                Thread drain = new Thread(() -> r.lines().forEach(l -> { synchronized (log) { log.append(l).append('\n'); } }));
                drain.setDaemon(true);
                drain.start();
                return new ServeProcess(p, uri, log, drain);
            }
            if (System.nanoTime() > deadline) break;
        }
        p.destroyForcibly();
        throw new AssertionError("serve did not come up:\n" + log);
    }

    /** What it printed so far. */
    public String output() {
        synchronized (log) {
            return log.toString();
        }
    }

    /** SIGTERM, then (after 15 s) SIGKILL. */
    @Override
    public void close() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
