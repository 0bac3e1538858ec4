package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on a local folder, plus the Object Lock enforcement only LocalStore has in tests. */
class LocalStoreTest extends LockableStoreContract {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();

    @Override
    protected Store newStore() {
        return new LocalStore("local", dir, clock);
    }

    @Override
    protected void passTime(Duration d) {
        clock.advance(d);
    }

    @Override
    protected Instant now() {
        return clock.instant();
    }

    @Override
    protected int unfinishedUploads() {
        try (Stream<Path> tmp = Files.list(dir.resolve("tmp"))) {
            return (int) tmp.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    protected int versionsKept(String key) {
        int n = Files.isRegularFile(dir.resolve("objects").resolve(key)) ? 1 : 0;
        Path versions = dir.resolve("versions").resolve(Sha256.hexOf(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        if (!Files.isDirectory(versions)) return n;
        try (Stream<Path> files = Files.list(versions)) {
            return n + (int) files.filter(p -> !p.getFileName().toString().endsWith(".lock")).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aSegmentLongerThanAFileNameIsRefusedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> put("seg/" + "s".repeat(256), new byte[] {1})).isInstanceOf(InvalidKeyException.class)
                .hasMessageContaining("at most 255 bytes");
        assertThat(unfinishedUploads()).isZero();
    }

    private void putLocked(String key, Duration retention, boolean hold) {
        store.put(key, new ByteArrayInputStream(new byte[] {1, 2, 3}),
                PutOptions.ofSize(3).withLock(new LockState(clock.instant().plus(retention), hold)));
    }

    @Test
    void deleteUnderRetentionIsRefusedUntilItExpires() {
        putLocked("r", Duration.ofDays(21), false);
        assertThatThrownBy(() -> store.delete("r")).isInstanceOf(ObjectLockedException.class)
                .hasMessageContaining("unable to delete 'r'").hasMessageContaining("COMPLIANCE retention until");
        assertThat(store.stat("r")).isPresent();
        clock.advance(Duration.ofDays(21).plusSeconds(1));
        store.delete("r");
        assertThat(store.stat("r")).isEmpty();
    }

    @Test
    void deleteUnderLegalHoldIsRefusedEvenAfterRetentionEnds() {
        putLocked("h", Duration.ofSeconds(10), true);
        clock.advance(Duration.ofDays(1));
        assertThatThrownBy(() -> store.delete("h")).isInstanceOf(ObjectLockedException.class).hasMessageContaining("legal hold");
        lockable().setLegalHold("h", false);
        store.delete("h");
        assertThat(store.stat("h")).isEmpty();
    }

    @Test
    void overwriteOfALockedObjectIsRefusedAndKeepsTheOriginal() throws IOException {
        putLocked("o", Duration.ofDays(1), false);
        assertThatThrownBy(() -> put("o", new byte[] {9})).isInstanceOf(ObjectLockedException.class)
                .hasMessageContaining("unable to overwrite 'o'");
        assertThat(read("o")).containsExactly(1, 2, 3);
    }

    @Test
    void theLockSurvivesReopeningTheStore() {
        putLocked("p", Duration.ofDays(1), true);
        Store reopened = new LocalStore("local", dir, clock);
        assertThatThrownBy(() -> reopened.delete("p")).isInstanceOf(ObjectLockedException.class);
        assertThat(((LockableStore) reopened).lockState("p").legalHold()).isTrue();
    }

    @Test
    void objectsSitAtTheirKeyPathAndNoTempFilesRemain() throws IOException {
        put("photos/a.jpg", new byte[] {1});
        assertThat(dir.resolve("objects/photos/a.jpg")).hasBinaryContent(new byte[] {1});
        try (Stream<Path> tmp = Files.list(dir.resolve("tmp"))) {
            assertThat(tmp).isEmpty();
        }
    }

    @Test
    void aKeyAndKeysBelowItAsAFolderCannotBothExistAndSaySo() {
        put("a", new byte[] {1});
        assertThatThrownBy(() -> put("a/b", new byte[] {2})).isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot hold a key and keys below it");
        put("x/y", new byte[] {1});
        assertThatThrownBy(() -> put("x", new byte[] {2})).isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot hold both");
    }

    @Test
    void leftoverTempFilesFromACrashAreRemovedOnOpen() throws IOException {
        Files.writeString(dir.resolve("tmp/dead.part"), "half an object");
        new LocalStore("local", dir, clock);
        assertThat(dir.resolve("tmp/dead.part")).doesNotExist();
    }

    @Test
    void retentionInThePastDoesNotProtect() {
        putLocked("past", Duration.ofSeconds(-5), false);
        store.delete("past");
        assertThat(store.stat("past")).isEmpty();
    }
}
