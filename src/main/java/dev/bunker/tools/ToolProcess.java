package dev.bunker.tools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child process of a database tool (pg_dump, pg_restore, mariadb-dump, mariadb): its stderr is drained (so it never blocks) and
 * kept for the error message.
 */
public final class ToolProcess {
    private final String name;
    private final Process process;
    private final StringBuilder stderr = new StringBuilder();
    private final Thread drain;

    private ToolProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.drain = new Thread(() -> {
            try (InputStream err = process.getErrorStream()) {
                String text = new String(err.readAllBytes(), StandardCharsets.UTF_8);
                synchronized (stderr) {
                    stderr.append(text.length() > 4000 ? text.substring(text.length() - 4000) : text);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, name + "-stderr");
        drain.setDaemon(true);
        drain.start();
    }

    /** Starts {@code command} with extra environment (PGPASSWORD, MYSQL_PWD: a password never goes on the command line). */
    public static ToolProcess start(String name, List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        return new ToolProcess(name, pb.start());
    }

    public InputStream stdout() { return process.getInputStream(); }

    /** What the tool reads (the mariadb client's SQL); closing it ends the tool's input. */
    public java.io.OutputStream stdin() { return process.getOutputStream(); }

    /** What the tool wrote to stderr (its last 4,000 characters); complete once {@link #checkSuccess} returned. */
    public String stderrText() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    /** Waits for the exit; throws with the tool's own error text if it failed. */
    public void checkSuccess() throws IOException {
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) throw new IOException(name + " did not exit after its output ended");
            drain.join(5000);
            if (process.exitValue() != 0) {
                String text;
                synchronized (stderr) {
                    text = stderr.toString().strip();
                }
                throw new IOException(name + " failed (exit code " + process.exitValue() + "): " + text);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(name + " interrupted");
        }
    }

    /** Waits for the exit with no time limit (pg_restore of a large database takes long). */
    public void awaitSuccess() throws IOException {
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
            throw new java.io.InterruptedIOException(name + " interrupted");
        }
        checkSuccess();
    }

    /** Whether the tool still runs (a streaming tool such as mariadb-binlog --stop-never ends only when it fails). */
    public boolean alive() {
        return process.isAlive();
    }

    public void destroy() {
        process.destroy();
    }
}
