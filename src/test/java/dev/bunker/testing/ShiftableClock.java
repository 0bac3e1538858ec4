package dev.bunker.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Real time plus a shift a test can add to: Bunker can be made to believe a lock has ended while a real server's clock says it has not. */
public final class ShiftableClock extends Clock {
    private volatile Duration shift = Duration.ZERO;

    public void shift(Duration d) {
        shift = shift.plus(d);
    }

    @Override
    public Instant instant() { return Instant.now().plus(shift); }

    @Override
    public ZoneId getZone() { return ZoneOffset.UTC; }

    @Override
    public Clock withZone(ZoneId zone) { return this; }
}
