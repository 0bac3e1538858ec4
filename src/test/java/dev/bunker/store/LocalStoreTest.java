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
        try (Stream<Path> tmp = Files.walk(dir.resolve("tmp")).filter(Files::isRegularFile)) {
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
    void bytesHashedInMemoryAreWrittenWithoutASecondHashButStillCheckedAgainstTheLedger() throws IOException {
        byte[] data = new byte[200_000];
        new java.util.Random(7).nextBytes(data);
        String sha = Sha256.hexOf(data);
        CheckedBytes checked = CheckedBytes.readFrom(new ByteArrayInputStream(data), data.length);
        assertThat(checked.sha256()).isEqualTo(sha);

        PutResult ok = store.put("k/ok", checked.reread(), PutOptions.ofSize(data.length).withSha256(sha));
        assertThat(ok.sha256()).isEqualTo(sha);
        assertThat(read("k/ok")).isEqualTo(data);

        String other = Sha256.hexOf(new byte[] {1});
        assertThatThrownBy(() -> store.put("k/wrong", checked.reread(), PutOptions.ofSize(data.length).withSha256(other)))
                .isInstanceOf(StoreException.class).hasMessageContaining("expected " + other);
        assertThat(store.stat("k/wrong")).isEmpty();
        assertThat(unfinishedUploads()).isZero();
    }

    @Test
    void aCheckedStreamAlreadyPartlyReadIsHashedAsItIsRead() throws IOException {
        byte[] data = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        CheckedBytes partly = CheckedBytes.readFrom(new ByteArrayInputStream(data), 100);
        assertThat(partly.skip(4)).isEqualTo(4);
        // the digest it carries is of all 16 bytes: the store must not take it for the 12 it gets
        assertThatThrownBy(() -> store.put("p", partly, PutOptions.ofSize(12).withSha256(partly.sha256())))
                .isInstanceOf(StoreException.class).hasMessageContaining("expected " + partly.sha256());
        CheckedBytes again = CheckedBytes.readFrom(new ByteArrayInputStream(data), 100);
        assertThat(again.skip(4)).isEqualTo(4);
        byte[] rest = java.util.Arrays.copyOfRange(data, 4, 16);
        assertThat(store.put("p", again, PutOptions.ofSize(12)).sha256()).isEqualTo(Sha256.hexOf(rest));
        assertThat(read("p")).isEqualTo(rest);

        // a reader that writes into what it is handed cannot change the bytes another target then writes unread
        CheckedBytes shared = CheckedBytes.readFrom(new ByteArrayInputStream(data), 100);
        shared.reread().transferTo(new java.io.OutputStream() {
            @Override public void write(int b) {}
            @Override public void write(byte[] b, int off, int len) { java.util.Arrays.fill(b, off, off + len, (byte) 0); }
        });
        assertThat(store.put("q", shared.reread(), PutOptions.ofSize(16).withSha256(Sha256.hexOf(data))).sha256()).isEqualTo(Sha256.hexOf(data));
        assertThat(read("q")).isEqualTo(data);
    }

    @Test
    void aSegmentLongerThanAFileNameIsRefusedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> put("seg/" + "s".repeat(256), new byte[] {1})).isInstanceOf(InvalidKeyException.class)
                .hasMessageContaining("at most 255 bytes");
        assertThat(unfinishedUploads()).isZero();
    }

    @Test
    void theHealthProbeReadsTheFolderAndSaysWhichStoreFailedWhenItIsGone() throws IOException {
        put("a/b", new byte[] {1});
        put("c", new byte[] {2});
        assertThat(StoreHealth.check(store, false).ok()).isTrue();
        Files.move(dir.resolve("objects"), dir.resolve("moved-away"));
        assertThatThrownBy(store::probe).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("unable to read store 'local'").hasMessageContaining(dir.resolve("objects").toString());
        StoreHealth.Result r = StoreHealth.check(store, false);
        assertThat(r.ok()).isFalse();
        assertThat(r.error()).contains("unable to read store 'local'");
    }

    @Test
    void aLargeFolderListsPageByPageInKeyOrderAndAChangeToItIsSeenAtOnce() throws IOException {
        java.util.List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; i < 1_500; i++) keys.add("big/" + String.format("%05d", i * 7 % 1_500) + (i % 3 == 0 ? "/x" : ""));
        for (String k : keys) put(k, new byte[] {(byte) k.length()});
        put("big.txt", new byte[] {1});
        put("big0", new byte[] {1});
        Path folder = dir.resolve("objects").resolve("big");
        Files.setLastModifiedTime(folder, java.nio.file.attribute.FileTime.from(Instant.now().minus(Duration.ofHours(1)))); // kept: not racy
        java.util.List<String> expected = new java.util.ArrayList<>(keys);
        expected.add("big.txt");
        expected.add("big0");
        expected.sort(null);
        assertThat(listAll(97)).isEqualTo(expected);
        assertThat(listAll(1_000)).isEqualTo(expected);

        put("big/00100a", new byte[] {2}); // the folder's time moves: the kept entries are not used
        store.delete("big/00200");
        expected.add("big/00100a");
        assertThat(expected.remove("big/00200")).isTrue();
        expected.sort(null);
        assertThat(listAll(97)).isEqualTo(expected);
        java.util.List<String> afterOneHundred = expected.stream().filter(k -> k.startsWith("big/0010") && k.compareTo("big/00100") > 0).limit(3).toList();
        assertThat(afterOneHundred).hasSize(3).startsWith("big/00100a");
        assertThat(store.list("big/0010", "big/00100", 3).objects()).extracting(ObjectInfo::key).isEqualTo(afterOneHundred);
    }

    private java.util.List<String> listAll(int pageSize) {
        java.util.List<String> out = new java.util.ArrayList<>();
        String after = null;
        do {
            ListPage page = store.list("", after, pageSize);
            page.objects().forEach(o -> out.add(o.key()));
            after = page.nextStartAfter();
        } while (after != null);
        return out;
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
        try (Stream<Path> tmp = Files.walk(dir.resolve("tmp")).filter(Files::isRegularFile)) {
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
        // A process that is gone (no such pid; this pid but another start), and a loose file an earlier version left an hour ago.
        Path gone = Files.createDirectories(dir.resolve("tmp/4194305-1"));
        Files.writeString(gone.resolve("dead.part"), "half an object");
        Path reused = Files.createDirectories(dir.resolve("tmp/" + ProcessHandle.current().pid() + "-1"));
        Path loose = Files.writeString(dir.resolve("tmp/old.part"), "half an object");
        Files.setLastModifiedTime(loose, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(7200)));
        new LocalStore("local", dir, clock);
        assertThat(gone).doesNotExist();
        assertThat(reused).doesNotExist();
        assertThat(loose).doesNotExist();
        assertThat(dir.resolve("tmp/" + LocalTemp.PROCESS_FOLDER)).as("this process's own").isDirectory();
    }

    @Test
    void retentionInThePastDoesNotProtect() {
        putLocked("past", Duration.ofSeconds(-5), false);
        store.delete("past");
        assertThat(store.stat("past")).isEmpty();
    }
}
