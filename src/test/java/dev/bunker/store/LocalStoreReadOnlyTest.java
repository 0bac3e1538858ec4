package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.testing.Mounts;
import dev.bunker.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local store whose folder is on a file system mounted read-only, as a vault disk is mounted in a recovery: it opens,
 * lists and reads as usual, and refuses every write with the reason, changing nothing. The mount is real (a read-only
 * bind mount, which needs root, as the CI runs).
 */
@Timeout(60)
class LocalStoreReadOnlyTest {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.atNow();
    Mounts mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) mounted.close();
    }

    @Test
    void aStoreOnAReadOnlyMountIsReadWholeAndRefusesEveryWriteWithTheReason() throws Exception {
        Path root = dir.resolve("vault");
        byte[] photo = "the bytes of a photo".getBytes();
        byte[] dump = new byte[700_000]; // more than one chunk
        new java.util.Random(7).nextBytes(dump);
        Instant until = clock.instant().plus(Duration.ofDays(21));
        LocalStore writable = new LocalStore("vault", root, clock);
        writable.put("photos/a.jpg", new ByteArrayInputStream(photo), new PutOptions(photo.length, null));
        writable.put(".bunker/backups/app/d.age", new ByteArrayInputStream(dump), new PutOptions(dump.length, new LockState(until, true)));
        List<String> before = filesUnder(root);

        mounted = Mounts.readOnly(root, dir.resolve("mnt"));

        LocalStore store = new LocalStore("vault", dir.resolve("mnt"), clock); // before this change: "unable to create store folder ... Read-only file system"
        assertThatThrownBy(store::probe) // health: copies and backups cannot land here, though restores read it
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("is read-only here");
        assertThat(store.list("", null, 100).objects().stream().map(ObjectInfo::key)).containsExactly(".bunker/backups/app/d.age", "photos/a.jpg");
        try (InputStream in = store.get(".bunker/backups/app/d.age")) {
            assertThat(in.readAllBytes()).isEqualTo(dump);
        }
        try (InputStream in = store.get("photos/a.jpg")) {
            assertThat(in.readAllBytes()).isEqualTo(photo);
        }
        assertThat(store.stat("photos/a.jpg").orElseThrow().size()).isEqualTo(photo.length);
        assertThat(store.lockState(".bunker/backups/app/d.age")).isEqualTo(new LockState(until, true));

        assertThatThrownBy(() -> store.put("photos/b.jpg", new ByteArrayInputStream(photo), new PutOptions(photo.length, null)))
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("photos/b.jpg").hasMessageContaining("is read-only here")
                .hasMessageContaining("remount it read-write");
        assertThatThrownBy(() -> store.delete("photos/a.jpg"))
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("unable to delete").hasMessageContaining("is read-only here");
        assertThatThrownBy(() -> store.setLegalHold(".bunker/backups/app/d.age", false))
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("unable to change the lock").hasMessageContaining("is read-only here");
        assertThat(filesUnder(root)).isEqualTo(before);
        try (InputStream in = store.get(".bunker/backups/app/d.age")) {
            assertThat(in.readAllBytes()).isEqualTo(dump);
        }
    }

    @Test
    void aWritableStoreOpensAsBeforeAndWrites() {
        LocalStore store = new LocalStore("shelter", dir.resolve("shelter"), clock);
        store.probe();
        store.put("k", new ByteArrayInputStream(new byte[] {1, 2, 3}), new PutOptions(3, null));
        store.delete("k");
        assertThat(store.stat("k")).isEmpty();
    }

    private static List<String> filesUnder(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.map(p -> root.relativize(p) + (Files.isDirectory(p) ? "/" : " " + p.toFile().length())).sorted().toList();
        }
    }
}
