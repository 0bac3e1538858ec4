package dev.bunker.lifecycle;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.BunkerConfig.LifecycleConfig;
import dev.bunker.replication.Replication;
import dev.bunker.store.GuardedStore;
import dev.bunker.store.LockState;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.MutableClock;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An object walked through every lifecycle state on a real PostgreSQL and real stores, with the
 * clock injected (the local stores enforce their locks on the same clock), so 21-, 23- and 30-day
 * periods pass without waiting.
 */
@Timeout(60)
class LifecycleTest {
    @TempDir Path dir;
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final Map<String, FaultyStore> faulty = new HashMap<>();
    Bunker bunker;
    Replication replication;
    Lifecycle lifecycle;

    void open(LifecycleConfig lc) {
        BunkerConfig base = TestConfigs.threeLocalStores(dir);
        BunkerConfig config = new BunkerConfig(base.source(), base.dataDir(), base.listen(), base.database(), base.stores(),
                base.replication(), base.api(), lc, base.backups());
        bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        replication = Engine.replication(bunker);
        lifecycle = Engine.lifecycle(bunker);
    }

    @AfterEach
    void close() {
        if (lifecycle != null) lifecycle.close();
        if (replication != null) replication.close();
        if (bunker != null) bunker.close();
    }

    byte[] put(String key, int size) throws Exception {
        byte[] data = new byte[size];
        new Random(key.hashCode()).nextBytes(data);
        replication.ingest().put(key, new ByteArrayInputStream(data), size, null, null);
        return data;
    }

    boolean anywhere(String key) {
        return List.of("primary", "vault", "shelter").stream().anyMatch(s -> faulty.get(s).real().stat(key).isPresent());
    }

    boolean everywhere(String key) {
        return List.of("primary", "vault", "shelter").stream().allMatch(s -> faulty.get(s).real().stat(key).isPresent());
    }

    String state(String key) throws Exception {
        return replication.ledger().find(key).map(o -> o.state().toString()).orElse("purged");
    }

    long count(String sql) throws Exception {
        try (Connection c = bunker.database().connection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    void advance(Duration d) {
        clock.advance(d);
    }

    @Test
    void anObjectWalksThroughEveryStateAndNothingIsDeletedEarly() throws Exception {
        open(new LifecycleConfig(Duration.ofDays(30), Duration.ofDays(23), 1.0, Duration.ofMinutes(1)));
        byte[] data = put("photos/cat.jpg", 70_000);
        replication.workers().drain();
        LockState live = ((LockableStore) bunker.store("vault")).lockState("photos/cat.jpg");
        assertThat(live.legalHold()).isTrue();
        assertThat(live.retainUntil()).isAfterOrEqualTo(clock.instant().plus(Duration.ofDays(21)));

        // Trashed: not readable through the normal API, listed in the trash, restorable byte-identical.
        Instant until = lifecycle.trash().trash("photos/cat.jpg", "api:app");
        assertThat(until).isEqualTo(clock.instant().plus(Duration.ofDays(30)));
        assertThatThrownBy(() -> replication.reads().open("photos/cat.jpg")).isInstanceOf(ObjectNotFoundException.class).hasMessageContaining("in the trash");
        assertThat(lifecycle.trash().list(null, 10)).extracting(Trash.Item::key).containsExactly("photos/cat.jpg");
        assertThatThrownBy(() -> replication.ingest().put("photos/cat.jpg", new ByteArrayInputStream(data), data.length, null, null))
                .hasMessageContaining("in the trash");
        advance(Duration.ofDays(10));
        lifecycle.trash().restore("photos/cat.jpg", "api:app");
        try (InputStream in = replication.reads().open("photos/cat.jpg").body()) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }

        // Trashed again; the trash period has to run out in full before it becomes permanent.
        lifecycle.trash().trash("photos/cat.jpg", "api:app");
        advance(Duration.ofDays(30).minusSeconds(5));
        assertThat(lifecycle.trash().expire(false, "lifecycle")).isZero();
        assertThat(state("photos/cat.jpg")).isEqualTo("trashed");
        advance(Duration.ofSeconds(10));
        assertThat(lifecycle.trash().expire(false, "lifecycle")).isEqualTo(1);
        assertThat(state("photos/cat.jpg")).isEqualTo("deleting");
        assertThatThrownBy(() -> lifecycle.trash().restore("photos/cat.jpg", "api:app")).hasMessageContaining("can no longer be restored");
        Instant deletedAt = clock.instant();

        // Holds released: retention first extended to now + 21d, and only then the hold released.
        faulty.get("vault").lockCalls.clear();
        assertThat(lifecycle.releaseHolds().run(100, false, "lifecycle")).isEqualTo(1);
        assertThat(faulty.get("vault").lockCalls).containsExactly(
                "extendRetention photos/cat.jpg " + deletedAt.plus(Duration.ofDays(21)).plusSeconds(1),
                "setLegalHold photos/cat.jpg false");
        LockState released = ((LockableStore) bunker.store("vault")).lockState("photos/cat.jpg");
        assertThat(released.legalHold()).isFalse();
        assertThat(released.retainUntil()).isAfter(deletedAt.plus(Duration.ofDays(21)));
        assertThat(state("photos/cat.jpg")).isEqualTo("deleted");

        // The purge waits for the later of deletion + 23d and the copy's retain-until.
        assertThat(lifecycle.purge().run(false, false, "lifecycle").purged()).isZero();
        advance(Duration.ofDays(23).minusSeconds(5));
        assertThat(lifecycle.purge().run(false, false, "lifecycle").purged()).isZero();
        assertThat(everywhere("photos/cat.jpg")).isTrue();
        advance(Duration.ofSeconds(10));
        PurgeExpired.Report report = lifecycle.purge().run(false, false, "lifecycle");
        assertThat(report.purged()).isEqualTo(1);
        assertThat(anywhere("photos/cat.jpg")).isFalse();
        assertThat(state("photos/cat.jpg")).isEqualTo("purged");
        assertThat(count("select count(*) from tombstones where key = 'photos/cat.jpg' and sha256 is not null and deleted_by like 'lifecycle%'")).isEqualTo(1);

        assertThat(lifecycle.audit().forKey("photos/cat.jpg")).extracting(Audit.Entry::action).containsExactly(
                "trash", "restore", "trash", "delete permanently", "release hold", "ready for purge", "purge");
        assertThat(lifecycle.audit().forKey("photos/cat.jpg").get(0).actor()).isEqualTo("api:app");
    }

    @Test
    void aCopysRetentionKeepsItAfterCleanupAfterHasPassed() throws Exception {
        // cleanup-after shorter than the lock: the locked copy's retain-until decides.
        open(new LifecycleConfig(Duration.ofDays(1), Duration.ofDays(2), 1.0, Duration.ofMinutes(1)));
        put("doc.pdf", 1000);
        replication.workers().drain();
        lifecycle.trash().trash("doc.pdf", "cli:ops");
        lifecycle.trash().empty("doc.pdf", "cli:ops");
        lifecycle.releaseHolds().run(10, false, "lifecycle");
        advance(Duration.ofDays(3));
        assertThat(lifecycle.purge().run(false, false, "lifecycle").purged()).isZero();
        assertThat(everywhere("doc.pdf")).isTrue();
        // And the vault itself refuses, whoever asks, until the retention ends.
        assertThatThrownBy(() -> GuardedStore.withDeletionPermit("test", () -> {
            bunker.store("vault").delete("doc.pdf");
            return null;
        })).isInstanceOf(ObjectLockedException.class);
        assertThat(bunker.metrics().scrape()).contains("bunker_lock_violations_refused_total{store=\"vault\"} 1.0");
        advance(Duration.ofDays(19));
        assertThat(lifecycle.purge().run(false, false, "lifecycle").purged()).isEqualTo(1);
        assertThat(anywhere("doc.pdf")).isFalse();
    }

    @Test
    void aPurgeThatDiesHalfwayLeavesAConsistentStateTheNextRunCompletes() throws Exception {
        open(new LifecycleConfig(Duration.ofDays(1), Duration.ofDays(1), 1.0, Duration.ofMinutes(1)));
        put("a", 500);
        replication.workers().drain();
        lifecycle.trash().trash("a", "api:app");
        lifecycle.trash().empty(null, "api:ops");
        lifecycle.releaseHolds().run(10, false, "lifecycle");
        advance(Duration.ofDays(22));
        faulty.get("shelter").failDeletes = true; // the shelter goes down in the middle of the purge
        PurgeExpired.Report r = lifecycle.purge().run(false, false, "lifecycle");
        assertThat(r.purged()).isZero();
        assertThat(r.failed()).containsKey("a");
        assertThat(faulty.get("primary").real().stat("a")).isEmpty();
        assertThat(faulty.get("shelter").real().stat("a")).isPresent();
        assertThat(state("a")).isEqualTo("deleted"); // still known: nothing forgotten while a copy remains
        assertThat(count("select count(*) from tombstones")).isZero();

        faulty.get("shelter").failDeletes = false;
        assertThat(lifecycle.purge().run(false, false, "lifecycle").purged()).isEqualTo(1);
        assertThat(anywhere("a")).isFalse();
        assertThat(count("select count(*) from tombstones where key = 'a'")).isEqualTo(1);
    }

    @Test
    void theMassDeletionBrakeStopsHoldReleaseAndPurgeUntilTheReviewedSetIsConfirmed() throws Exception {
        open(new LifecycleConfig(Duration.ofDays(1), Duration.ofDays(1), 0.05, Duration.ofMinutes(1)));
        for (int i = 0; i < 20; i++) put("k" + i, 100);
        replication.workers().drain();
        lifecycle.trash().trash("k1", "api:app");
        lifecycle.trash().trash("k2", "api:app");
        lifecycle.trash().empty(null, "api:ops");

        // 2 of 20 is 10%: the holds are not released, the brake trips, and nothing is any closer to destruction.
        assertThat(lifecycle.releaseHolds().run(10, false, "lifecycle")).isEqualTo(-1);
        assertThat(((LockableStore) bunker.store("vault")).lockState("k1").legalHold()).isTrue();
        assertThat(lifecycle.brake().trippedReason()).contains("release the legal holds of").contains("10.0% of objects")
                .contains("above the brake of 5.0%");
        assertThat(lifecycle.status().deletionBrake()).startsWith("TRIPPED");
        assertThat(bunker.metrics().scrape()).contains("bunker_purge_brake_tripped 1.0");

        // The operator reviews the set and confirms exactly it; a stale or made-up code changes nothing.
        DeletionReview review = lifecycle.review();
        assertThat(review.releasing()).containsExactly("k1", "k2");
        assertThatThrownBy(() -> lifecycle.runConfirmed("000000000000", "cli:ops")).isInstanceOf(LifecycleException.class)
                .hasMessageContaining("changed since it was reviewed");
        assertThat(((LockableStore) bunker.store("vault")).lockState("k1").legalHold()).isTrue();
        assertThat(lifecycle.runConfirmed(review.code(), "cli:ops")).isPresent();
        assertThat(((LockableStore) bunker.store("vault")).lockState("k1").legalHold()).isFalse();
        assertThat(lifecycle.brake().trippedReason()).isNull();

        // Purging them, once due, is braked again: the last step before the bytes are gone gets its own review.
        advance(Duration.ofDays(22));
        PurgeExpired.Report stopped = lifecycle.purge().run(false, false, "lifecycle");
        assertThat(stopped.brakeTripped()).isTrue();
        assertThat(everywhere("k1")).isTrue();
        DeletionReview purgeReview = lifecycle.review();
        assertThat(purgeReview.purging()).containsExactly("k1", "k2");
        assertThat(lifecycle.runConfirmed(purgeReview.code(), "cli:ops").orElseThrow().purged()).isEqualTo(2);
        assertThat(anywhere("k1") || anywhere("k2")).isFalse();
        assertThat(lifecycle.audit().recent(20)).extracting(Audit.Entry::action).contains("deletion brake tripped", "deletion confirmed");
    }

    @Test
    void aMassTrashLeftForItsWholeTrashPeriodTripsTheBrakeBeforeAnyHoldIsReleased() throws Exception {
        open(new LifecycleConfig(Duration.ofDays(30), Duration.ofDays(23), 0.05, Duration.ofMinutes(1)));
        for (int i = 0; i < 20; i++) put("m" + i, 100);
        replication.workers().drain();
        for (int i = 0; i < 12; i++) lifecycle.trash().trash("m" + i, "api:rogue");
        advance(Duration.ofDays(31));
        assertThat(lifecycle.runDue()).isTrue();
        assertThat(count("select count(*) from objects where state = 'trashed'")).isEqualTo(12);
        assertThat(count("select count(*) from objects where state in ('deleting', 'deleted')")).isZero();
        for (int i = 0; i < 12; i++) assertThat(((LockableStore) bunker.store("vault")).lockState("m" + i).legalHold()).isTrue();
        assertThat(lifecycle.brake().trippedReason()).contains("end the trash period of 12 objects");
        // Still restorable: the rogue trash is undone by restoring, nothing was lost.
        lifecycle.trash().restore("m3", "api:ops");
        assertThat(state("m3")).isEqualTo("live");
    }

    @Test
    void aPermanentlyDeletedObjectCanBeUndeletedBeforeThePurgeAndGetsItsHoldsBack() throws Exception {
        open(new LifecycleConfig(Duration.ofDays(30), Duration.ofDays(23), 1.0, Duration.ofMinutes(1)));
        byte[] data = put("oops.jpg", 5000);
        replication.workers().drain();
        lifecycle.trash().trash("oops.jpg", "api:app");
        lifecycle.trash().empty("oops.jpg", "api:ops");
        lifecycle.releaseHolds().run(10, false, "lifecycle");
        assertThat(state("oops.jpg")).isEqualTo("deleted");
        assertThat(((LockableStore) bunker.store("vault")).lockState("oops.jpg").legalHold()).isFalse();

        lifecycle.undelete("oops.jpg", "cli:ops");
        assertThat(state("oops.jpg")).isEqualTo("live");
        replication.workers().drain();
        assertThat(((LockableStore) bunker.store("vault")).lockState("oops.jpg").legalHold()).isTrue();
        try (InputStream in = replication.reads().open("oops.jpg").body()) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(lifecycle.audit().forKey("oops.jpg")).extracting(Audit.Entry::action).contains("undelete");
        assertThatThrownBy(() -> lifecycle.undelete("oops.jpg", "cli:ops")).isInstanceOf(LifecycleException.class).hasMessageContaining("live");
    }

    @Test
    void onlyTheCleanupJobCanDeleteFromAStore() throws Exception {
        open(LifecycleConfig.DEFAULTS);
        put("keep", 10);
        for (String store : List.of("primary", "vault", "shelter")) {
            assertThatThrownBy(() -> bunker.store(store).delete("keep")).isInstanceOf(GuardedStore.DeletionRefusedException.class)
                    .hasMessageContaining("only the lifecycle's cleanup job deletes objects");
        }
        assertThat(faulty.get("primary").real().stat("keep")).isPresent();
    }

    @Test
    void permanentlyDeletedObjectsAreNotCopiedAnyMore() throws Exception {
        open(LifecycleConfig.DEFAULTS);
        put("late", 100);
        lifecycle.trash().trash("late", "api:app");
        lifecycle.trash().empty("late", "api:app");
        replication.workers().drain(); // the pending replication job finds the object deleted and drops it
        assertThat(faulty.get("vault").real().stat("late")).isEmpty();
        assertThat(count("select count(*) from replication_jobs")).isZero();
    }
}
