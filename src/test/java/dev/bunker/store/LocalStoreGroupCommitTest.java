package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A local store's group commit (stage, then publish a batch) and its locks kept on the files. */
class LocalStoreGroupCommitTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();

    private LocalStore store() {
        return new LocalStore("local", dir, clock);
    }

    private static Staged stage(Store s, String key, byte[] data) {
        return s.stage(key, new ByteArrayInputStream(data), PutOptions.ofSize(data.length), false);
    }

    private static byte[] read(Store s, String key) throws IOException {
        try (InputStream in = s.get(key)) {
            return in.readAllBytes();
        }
    }

    private long tempFiles() throws IOException {
        try (Stream<Path> tmp = Files.walk(dir.resolve("tmp")).filter(Files::isRegularFile)) {
            return tmp.count();
        }
    }

    @Test
    void stagedWritesStayInvisibleUntilTheirBatchIsPublishedAndADiscardedOneLeavesNothing() throws IOException {
        LocalStore s = store();
        List<Publication> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) batch.add(new Publication(stage(s, "batch/" + i, ("object " + i).getBytes()), null));
        Staged dropped = stage(s, "dropped", new byte[] {9});
        assertThat(s.stat("batch/0")).isEmpty();
        assertThat(s.list("", null, 100).objects()).isEmpty();
        assertThat(batch.get(3).staged().written().sha256()).isEqualTo(Sha256.hexOf("object 3".getBytes()));

        List<Publication.Outcome> out = s.publish(batch);
        dropped.discard();

        assertThat(out).allMatch(Publication.Outcome::ok);
        for (int i = 0; i < 20; i++) assertThat(read(s, "batch/" + i)).isEqualTo(("object " + i).getBytes());
        assertThat(s.stat("dropped")).isEmpty();
        assertThat(tempFiles()).isZero();
    }

    @Test
    void aBatchPublishesWithPutsChecksEachWriteOnItsOwn() throws IOException {
        LocalStore s = store();
        s.put("locked", new ByteArrayInputStream(new byte[] {1}), PutOptions.ofSize(1).withLock(new LockState(null, true)));
        Publication overLocked = new Publication(stage(s, "locked", new byte[] {2}), null);
        Publication refused = new Publication(s.stage("guarded", new ByteArrayInputStream(new byte[] {3}),
                PutOptions.ofSize(1).withPrecondition(() -> { throw new IllegalStateException("reservation lost"); }), false), null);
        Publication fine = new Publication(stage(s, "fine", new byte[] {4}), null);

        List<Publication.Outcome> out = s.publish(List.of(overLocked, refused, fine));

        assertThat(out.get(0).error()).isInstanceOf(ObjectLockedException.class);
        assertThat(out.get(1).error()).hasMessage("reservation lost");
        assertThat(out.get(2).ok()).isTrue();
        assertThat(read(s, "locked")).containsExactly(1);
        assertThat(s.stat("guarded")).isEmpty();
        assertThat(read(s, "fine")).containsExactly(4);
        assertThat(tempFiles()).isZero();
    }

    @Test
    void aLockPublishedWithAWriteLivesOnItsFileAndSurvivesReopening() throws IOException {
        LockState lock = new LockState(clock.instant().plus(Duration.ofDays(21)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS), true);
        LocalStore s = store();
        assertThat(s.publish(List.of(new Publication(stage(s, "kept", new byte[] {1, 2}), lock)))).allMatch(Publication.Outcome::ok);

        LocalStore reopened = store();
        assertThat(reopened.lockState("kept")).isEqualTo(lock);
        assertThat(Files.exists(dir.resolve("locks"))).as("no lock files are written").isFalse();
        UserDefinedFileAttributeView view = Files.getFileAttributeView(reopened.pathOf("kept"), UserDefinedFileAttributeView.class);
        assertThat(view.list()).contains("bunker.lock");
        assertThatThrownBy(() -> reopened.delete("kept")).isInstanceOf(ObjectLockedException.class);
    }

    @Test
    void aLockAnEarlierVersionKeptAsAFileIsStillEnforcedAndMovesOntoTheFileWhenChanged() throws IOException {
        LocalStore s = store();
        Path object = s.pathOf("old/photo.jpg");
        Files.createDirectories(object.getParent());
        Files.write(object, new byte[] {7, 7, 7});
        Path legacy = dir.resolve("locks/old/photo.jpg");
        Files.createDirectories(legacy.getParent());
        Files.writeString(legacy, "{\"retainUntil\":null,\"legalHold\":true}");

        assertThat(s.lockState("old/photo.jpg").legalHold()).isTrue();
        assertThatThrownBy(() -> s.delete("old/photo.jpg")).isInstanceOf(ObjectLockedException.class);
        assertThatThrownBy(() -> s.put("old/photo.jpg", new ByteArrayInputStream(new byte[] {1}), PutOptions.ofSize(1)))
                .isInstanceOf(ObjectLockedException.class);

        s.setLegalHold("old/photo.jpg", false);
        assertThat(legacy).doesNotExist();
        ByteBuffer attr = ByteBuffer.allocate(200);
        Files.getFileAttributeView(object, UserDefinedFileAttributeView.class).read("bunker.lock", attr);
        assertThat(new String(attr.array(), 0, attr.position(), StandardCharsets.UTF_8)).contains("\"legalHold\":false");
        s.delete("old/photo.jpg");
        assertThat(s.stat("old/photo.jpg")).isEmpty();
    }

    @Test
    void processesOpeningOneFolderAtTheSameTimeAllOpen() throws Exception {
        // Serves sharing a store folder start together; each checks extended attributes on a probe file of its own.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<LocalStore>> opened = new ArrayList<>();
            for (int i = 0; i < 200; i++) opened.add(pool.submit(this::store));
            for (java.util.concurrent.Future<LocalStore> f : opened) assertThat(f.get().name()).isEqualTo("local");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStoreRefusesToPublishWhatAnotherStoreStaged() throws IOException {
        LocalStore a = store();
        LocalStore b = new LocalStore("other", dir.resolveSibling(dir.getFileName() + "-b"), clock);
        Staged fromB = stage(b, "x", new byte[] {1});
        assertThatThrownBy(() -> a.publish(List.of(new Publication(fromB, null)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("did not stage");
        fromB.discard();
        assertThat(a.stat("x")).isEmpty();
        assertThat(b.stat("x")).isEmpty();
    }
}
