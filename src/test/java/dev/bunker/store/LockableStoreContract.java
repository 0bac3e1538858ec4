package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/**
 * What Object Lock must do on every store that offers it: while an object is under retention or a
 * legal hold, deleting it, overwriting it and shortening its retention are refused with
 * {@link ObjectLockedException} and change nothing; once the lock ends they work. A locked object
 * that must be replaced gets a new version beside it, and the old version keeps its protection.
 * Real time passes in these tests ({@link #passTime}), so a server enforcing with its own clock is tested as it is.
 */
abstract class LockableStoreContract extends StoreContract {
    protected LockableStore lockable() {
        return (LockableStore) store;
    }

    /** Lets {@code d} pass for the store's clock (a sleep for a server, an injected clock for a local folder). */
    protected void passTime(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }

    /** Now, as the store's clock sees it. */
    protected Instant now() {
        return Instant.now();
    }

    private Instant shortly() {
        return now().plusSeconds(3).truncatedTo(ChronoUnit.SECONDS);
    }

    private void putLocked(String key, byte[] data, Instant until, boolean hold) {
        store.put(key, new ByteArrayInputStream(data), PutOptions.ofSize(data.length).withLock(new LockState(until, hold)));
    }

    private void waitPast(Instant until) throws InterruptedException {
        Duration left = Duration.between(now(), until).plusMillis(1200);
        if (!left.isNegative()) passTime(left);
    }

    @Test
    void aLockGivenWithThePutIsThereWhenReadBack() {
        Instant until = now().plus(21, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        putLocked("locked", randomBytes(100), until, true);
        LockState state = lockable().lockState("locked");
        assertThat(state.retainUntil()).isEqualTo(until);
        assertThat(state.legalHold()).isTrue();
    }

    @Test
    void aLockGivenWithAMultipartPutIsThereWhenReadBack() {
        Instant until = now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        byte[] data = randomBytes(largeObjectSize());
        store.put("locked-big", new ByteArrayInputStream(data), PutOptions.unknownSize().withLock(new LockState(until, false)));
        assertThat(lockable().lockState("locked-big")).isEqualTo(new LockState(until, false));
    }

    @Test
    void aLockedPutOfBytesOtherThanTheExpectedSha256FailsAndLocksNothing() {
        Instant until = now().plus(21, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        for (byte[] data : new byte[][] {randomBytes(1000), randomBytes(largeObjectSize() + 1000)}) { // single PUT and multipart
            String expected = Sha256.hexOf(randomBytes(data.length)); // what the caller meant to send: other bytes
            String key = "wrong-" + data.length;
            assertThatThrownBy(() -> store.put(key, new ByteArrayInputStream(data),
                    PutOptions.ofSize(data.length).withLock(new LockState(until, true)).withSha256(expected)))
                    .isInstanceOf(StoreException.class).hasMessageContaining("expected " + expected);
            assertThat(store.stat(key)).as(key).isEmpty();
            assertThat(versionsKept(key)).as("versions of %s", key).isZero();
            // The right bytes with the right hash go through, under the lock.
            store.put(key, new ByteArrayInputStream(data), PutOptions.ofSize(data.length).withLock(new LockState(until, true))
                    .withSha256(Sha256.hexOf(data)));
            assertThat(lockable().lockState(key)).isEqualTo(new LockState(until, true));
        }
        assertThat(unfinishedUploads()).isZero();
    }

    @Test
    void underRetentionDeleteOverwriteAndShorteningAreRefusedThenAllowedAfter() throws Exception {
        byte[] original = randomBytes(1000);
        Instant until = shortly();
        putLocked("r", original, until, false);
        assertThatThrownBy(() -> store.delete("r")).isInstanceOf(ObjectLockedException.class).hasMessageContaining("unable to delete 'r'");
        assertThatThrownBy(() -> put("r", randomBytes(10))).isInstanceOf(ObjectLockedException.class).hasMessageContaining("unable to overwrite 'r'");
        assertThatThrownBy(() -> lockable().extendRetention("r", until.minusSeconds(2))).isInstanceOf(ObjectLockedException.class)
                .hasMessageContaining("never shortened");
        assertThat(read("r")).isEqualTo(original);
        assertThat(lockable().lockState("r").retainUntil()).isEqualTo(until);

        waitPast(until);
        byte[] replacement = randomBytes(20);
        put("r", replacement);
        assertThat(read("r")).isEqualTo(replacement);
        store.delete("r");
        assertThat(store.stat("r")).isEmpty();
        assertThat(versionsKept("r")).isZero();
    }

    @Test
    void aLegalHoldRefusesDeleteAndOverwriteUntilReleasedAndOutlastsRetention() throws Exception {
        Instant until = shortly();
        putLocked("h", randomBytes(10), until, true);
        waitPast(until);
        assertThatThrownBy(() -> store.delete("h")).isInstanceOf(ObjectLockedException.class).hasMessageContaining("legal hold");
        assertThatThrownBy(() -> put("h", randomBytes(10))).isInstanceOf(ObjectLockedException.class);
        lockable().setLegalHold("h", false);
        store.delete("h");
        assertThat(store.stat("h")).isEmpty();
        assertThat(versionsKept("h")).isZero();
    }

    @Test
    void retentionCanBeExtendedButNeverShortened() {
        put("r", randomBytes(10));
        assertThat(lockable().lockState("r")).isEqualTo(LockState.NONE);
        Instant t1 = now().plus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        lockable().extendRetention("r", t1);
        Instant t2 = t1.plus(5, ChronoUnit.DAYS);
        lockable().extendRetention("r", t2);
        assertThat(lockable().lockState("r").retainUntil()).isEqualTo(t2);
        assertThatThrownBy(() -> lockable().extendRetention("r", t1)).isInstanceOf(ObjectLockedException.class)
                .hasMessageContaining("never shortened");
        assertThat(lockable().lockState("r").retainUntil()).isEqualTo(t2);
    }

    @Test
    void holdAndRetainProtectsForAtLeastThePeriodAndNeverShortensALongerRetention() {
        put("p", randomBytes(10));
        Instant asked = now(); // once: a second now() can be past the next whole second the retention was rounded up to
        Instant until = lockable().holdAndRetain("p", asked, Duration.ofDays(2));
        assertThat(until).isAfterOrEqualTo(asked.plus(Duration.ofDays(2))).isBefore(asked.plus(Duration.ofDays(2)).plusSeconds(5));
        assertThat(lockable().lockState("p")).isEqualTo(new LockState(until, true));

        Instant later = until.plus(30, ChronoUnit.DAYS);
        lockable().extendRetention("p", later);
        lockable().setLegalHold("p", false);
        assertThat(lockable().holdAndRetain("p", now(), Duration.ofDays(2))).as("a longer retention stays").isEqualTo(later);
        assertThat(lockable().lockState("p")).isEqualTo(new LockState(later, true));
        assertThatThrownBy(() -> lockable().holdAndRetain("missing", now(), Duration.ofDays(1))).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void legalHoldGoesOnAndOff() {
        put("h", randomBytes(10));
        lockable().setLegalHold("h", true);
        assertThat(lockable().lockState("h").legalHold()).isTrue();
        lockable().setLegalHold("h", false);
        assertThat(lockable().lockState("h").legalHold()).isFalse();
    }

    @Test
    void aLockedObjectIsReplacedOnlyByANewVersionAndTheOldOneKeepsItsProtection() throws Exception {
        byte[] rotten = randomBytes(500);
        Instant until = shortly();
        putLocked("v", rotten, until, true);
        byte[] good = randomBytes(500);
        PutResult r = lockable().putNewVersion("v", new ByteArrayInputStream(good), PutOptions.ofSize(good.length));
        assertThat(r.sha256()).isEqualTo(Sha256.hexOf(good));
        assertThat(read("v")).isEqualTo(good);
        try (InputStream in = store.get("v", r.versionId())) {
            assertThat(in.readAllBytes()).isEqualTo(good);
        }
        // The rotten version is still there and still protected: the object cannot be deleted yet.
        assertThat(versionsKept("v")).isEqualTo(2);
        assertThatThrownBy(() -> store.delete("v")).isInstanceOf(ObjectLockedException.class);
        assertThat(read("v")).isEqualTo(good);

        // Locking and releasing act on every version; once the old lock has ended, delete removes both.
        lockable().applyLock("v", until, false);
        waitPast(until);
        store.delete("v");
        assertThat(store.stat("v")).isEmpty();
        assertThat(versionsKept("v")).isZero();
    }

    @Test
    void anEmptyObjectCanBeLocked() throws IOException {
        Instant until = now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        putLocked("empty-locked", new byte[0], until, true);
        assertThat(read("empty-locked")).isEmpty();
        assertThat(lockable().lockState("empty-locked")).isEqualTo(new LockState(until, true));
        assertThatThrownBy(() -> store.delete("empty-locked")).isInstanceOf(ObjectLockedException.class);
    }

    @Test
    void lockCallsOnMissingObjectsSayNotFound() {
        assertThatThrownBy(() -> lockable().lockState("missing")).isInstanceOf(ObjectNotFoundException.class);
        assertThatThrownBy(() -> lockable().setLegalHold("missing", true)).isInstanceOf(StoreException.class);
    }
}
