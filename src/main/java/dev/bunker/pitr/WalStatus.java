package dev.bunker.pitr;

import java.time.Duration;
import java.time.Instant;

/**
 * How one source's WAL streaming is doing, for status, metrics and alerts (written by its stream, read by anyone).
 * {@code lagSeconds}: how long the oldest byte of the last chunk stored waited from its arrival until it was in every
 * backup store; {@code standby}: another process streams this source (a slot has one consumer at a time).
 */
public final class WalStatus {
    /** A copy of the status at one moment. */
    public record Snapshot(String source, String slot, boolean streaming, boolean standby, String durableLsn, Instant durableAt, double lagSeconds,
                           Long retainedBytes, long chunks, long bytes, String lastError, Instant lastErrorAt, String systemId) {}

    private final String source;
    private final String slot;
    private boolean streaming;
    private boolean standby;
    private String durableLsn;
    private Instant durableAt;
    private double lagSeconds;
    private Long retainedBytes;
    private long chunks;
    private long bytes;
    private String lastError;
    private Instant lastErrorAt;
    private String systemId;

    WalStatus(String source, String slot) {
        this.source = source;
        this.slot = slot;
    }

    synchronized void streaming(String from, Instant at, Long retained, String cluster) {
        if (!cluster.equals(systemId)) {
            durableLsn = null; // another cluster's positions say nothing of this one's
            durableAt = null;
        }
        systemId = cluster;
        streaming = true;
        standby = false;
        retainedBytes = retained;
        if (durableLsn == null) durableLsn = from;
        if (durableAt == null) durableAt = at;
    }

    synchronized void durable(String lsn, Instant receivedAt, Duration waited, long length) {
        durableLsn = lsn;
        durableAt = receivedAt;
        lagSeconds = waited.toNanos() / 1e9;
        chunks++;
        bytes += length;
    }

    synchronized void retained(Long bytes) {
        retainedBytes = bytes;
    }

    synchronized void quiet(Instant at) {
        durableAt = at;
        lagSeconds = 0;
    }

    synchronized void failed(String error, Instant at) {
        streaming = false;
        lastError = error;
        lastErrorAt = at;
    }

    synchronized void standby() {
        streaming = false;
        standby = true;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(source, slot, streaming, standby, durableLsn, durableAt, lagSeconds, retainedBytes, chunks, bytes, lastError, lastErrorAt,
                systemId);
    }
}
