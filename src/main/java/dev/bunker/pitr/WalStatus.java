package dev.bunker.pitr;

import java.time.Duration;
import java.time.Instant;

/** How one source's WAL streaming is doing, for status, metrics and alerts (written by its stream, read by anyone). */
public final class WalStatus {
    /** A copy of the status at one moment. */
    public record Snapshot(String source, String slot, boolean streaming, String durableLsn, Instant durableAt, double lastUploadSeconds,
                           long chunks, long bytes, String lastError, Instant lastErrorAt) {}

    private final String source;
    private final String slot;
    private boolean streaming;
    private String durableLsn;
    private Instant durableAt;
    private double lastUploadSeconds;
    private long chunks;
    private long bytes;
    private String lastError;
    private Instant lastErrorAt;

    WalStatus(String source, String slot) {
        this.source = source;
        this.slot = slot;
    }

    synchronized void streaming(String from, Instant at) {
        streaming = true;
        if (durableLsn == null) durableLsn = from;
        if (durableAt == null) durableAt = at;
    }

    synchronized void durable(String lsn, Instant receivedAt, Duration upload, long length) {
        durableLsn = lsn;
        durableAt = receivedAt;
        lastUploadSeconds = upload.toNanos() / 1e9;
        chunks++;
        bytes += length;
    }

    synchronized void failed(String error, Instant at) {
        streaming = false;
        lastError = error;
        lastErrorAt = at;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(source, slot, streaming, durableLsn, durableAt, lastUploadSeconds, chunks, bytes, lastError, lastErrorAt);
    }
}
