package dev.bunker.cli;

import java.util.function.Consumer;

/** A one-line progress display on a terminal (rewritten in place, at most 10 times a second); silent otherwise. */
final class Progress implements Consumer<String>, AutoCloseable {
    private final boolean enabled = System.console() != null;
    private long lastPrint;
    private int lastLength;

    @Override
    public void accept(String line) {
        if (!enabled) return;
        long now = System.nanoTime();
        if (now - lastPrint < 100_000_000L) return;
        lastPrint = now;
        String pad = line.length() < lastLength ? " ".repeat(lastLength - line.length()) : "";
        System.err.print("\r" + line + pad);
        System.err.flush();
        lastLength = line.length();
    }

    @Override
    public void close() {
        if (enabled && lastLength > 0) System.err.print("\r" + " ".repeat(lastLength) + "\r");
    }
}
