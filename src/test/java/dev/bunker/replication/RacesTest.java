package dev.bunker.replication;

import dev.bunker.Engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.drill.Drills;
import dev.bunker.store.LocalStore;
import dev.bunker.store.LockableStore;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.Sha256;
import dev.bunker.testing.FaultyStore;
import dev.bunker.testing.ShiftableClock;
import dev.bunker.testing.TestConfigs;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain bad timing between two processes sharing one database and one set of stores: a worker that
 * stalled past its lease, two uploads of one key, an outbox call for a deleted key, and a locked copy
 * that rots. Each must end with the ledger and the stores agreeing, and no good copy downgraded.
 */
@Timeout(120)
class RacesTest {
    @TempDir Path dir;
    final List<AutoCloseable> open = new ArrayList<>();

    record Process(Bunker bunker, Replication replication, Map<String, FaultyStore> stores) {}

    Process process(BunkerConfig config) {
        return process(config, Clock.systemUTC());
    }

    Process process(BunkerConfig config, Clock clock) {
        Map<String, FaultyStore> faulty = new HashMap<>();
        Bunker bunker = Bunker.open(config, clock, FaultyStore.into(faulty));
        Replication replication = Engine.replication(bunker);
        open.add(0, bunker);
        open.add(0, replication);
        return new Process(bunker, replication, faulty);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) c.close();
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long count(Bunker b, String sql) throws SQLException {
        try (Connection c = b.database().connection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String copyState(Replication r, String key, String store) throws SQLException {
        return r.ledger().copies(key).stream().filter(c -> c.store().equals(store)).map(c -> c.state().toString()).findFirst().orElse("none");
    }

    @Test
    void aWorkerThatLostItsLeaseCannotDowngradeTheCopyAnotherWorkerVerified() throws Exception {
        BunkerConfig config = TestConfigs.threeLocalStores(dir); // 3 s leases
        Process a = process(config);
        ShiftableClock later = new ShiftableClock(); // B lives past A's lease without the test sleeping through it
        Process b = process(config, later);
        byte[] data = bytes(50_000, 1);
        a.replication().ingest().put("k", new ByteArrayInputStream(data), data.length, null, null);

        // Worker A claims the job and stalls before writing to the vault (no lease renewals: it is stuck).
        CountDownLatch stalled = new CountDownLatch(1);
        a.stores().get("vault").putGate = stalled;
        CompletableFuture<Boolean> late = CompletableFuture.supplyAsync(() -> {
            try {
                return a.replication().workers().runOnce();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count(a.bunker(), "select count(*) from replication_jobs where lease_owner is not null") == 0 && System.nanoTime() < until) {
            Thread.sleep(10); // until A has claimed the job
        }
        later.shift(config.replication().lease().plusSeconds(1));

        // Worker B takes the job over after the lease, copies, verifies and locks.
        assertThat(b.replication().workers().runOnce()).isTrue();
        assertThat(copyState(b.replication(), "k", "vault")).isEqualTo("verified");
        assertThat(count(b.bunker(), "select count(*) from replication_jobs")).isZero();

        // A wakes up: the vault refuses its overwrite (locked), and A records nothing at all.
        stalled.countDown();
        assertThat(late.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(copyState(b.replication(), "k", "vault")).isEqualTo("verified");
        assertThat(copyState(b.replication(), "k", "shelter")).isEqualTo("verified");
        assertThat(count(b.bunker(), "select count(*) from replication_jobs")).isZero();
        LocalStore vault = (LocalStore) a.stores().get("vault").real();
        assertThat(Sha256.hexOf(Files.readAllBytes(vault.pathOf("k")))).isEqualTo(Sha256.hexOf(data));
        assertThat(((LockableStore) vault).lockState("k").legalHold()).isTrue();
    }

    @Test
    void twoUploadsOfOneKeyEndWithOne201AndOne409AndTheLedgerMatchesThePrimary() throws Exception {
        BunkerConfig config = TestConfigs.threeLocalStores(dir);
        Process a = process(config);
        Process b = process(config);
        byte[] first = bytes(300_000, 2);
        byte[] second = bytes(300_000, 3);

        // Upload A sends half its body, then its client stalls for longer than the reservation lease.
        CountDownLatch resume = new CountDownLatch(1);
        InputStream slow = new FilterInputStream(new ByteArrayInputStream(first)) {
            long sent;

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                if (sent >= first.length / 2) {
                    try {
                        resume.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                int n = super.read(buf, off, (int) Math.min(len, Math.max(1, first.length / 2 - sent)));
                if (n > 0) sent += n;
                return n;
            }
        };
        CompletableFuture<Object> uploadA = CompletableFuture.supplyAsync(() -> {
            try {
                return a.replication().ingest().put("same", slow, first.length, null, null);
            } catch (RuntimeException e) {
                return e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count(a.bunker(), "select count(*) from ingest_reservations") == 0 && System.nanoTime() < deadline) Thread.sleep(20);
        // The stall outlasts A's lease (its renewals did not run: a paused process, a lost connection).
        try (Connection c = a.bunker().database().connection()) {
            c.createStatement().executeUpdate("update ingest_reservations set expires_at = now() - interval '1 second'");
        }

        Ingest.Stored stored = b.replication().ingest().put("same", new ByteArrayInputStream(second), second.length, null, null);
        assertThat(stored.created()).isTrue();
        resume.countDown();
        Object resultA = uploadA.get(30, TimeUnit.SECONDS);
        assertThat(resultA).isInstanceOf(Ingest.Rejected.class);
        assertThat(((Ingest.Rejected) resultA).reason()).isEqualTo(Ingest.Rejected.Reason.CONFLICT);
        assertThat(((Ingest.Rejected) resultA).getMessage()).contains("another upload of the key took over");

        // The ledger, the primary and every read agree on B's bytes.
        assertThat(b.replication().ledger().find("same").orElseThrow().sha256()).isEqualTo(Sha256.hexOf(second));
        LocalStore primary = (LocalStore) b.stores().get("primary").real();
        assertThat(Files.readAllBytes(primary.pathOf("same"))).isEqualTo(second);
        try (InputStream in = b.replication().reads().open("same").body()) {
            assertThat(in.readAllBytes()).isEqualTo(second);
        }
        assertThat(count(b.bunker(), "select count(*) from ingest_reservations")).isZero();
    }

    @Test
    void theOutboxFunctionRefusesKeysThatAreBeingDeletedOrReservedAndStillTakesLiveAndNewOnes() throws Exception {
        Process p = process(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(1000, 4);
        p.replication().ingest().put("gone", new ByteArrayInputStream(data), data.length, null, null);
        p.replication().workers().drain();
        try (Connection c = p.bunker().database().connection()) {
            c.createStatement().executeUpdate("update objects set state = 'trashed', trashed_at = now() where key = 'gone'");
            for (String key : new String[] {"gone", ".bunker/backups/app/x.manifest.json", "a/../b", "bad\u0001key"}) {
                assertThatThrownBy(() -> outbox(c, key, null)).as(key).isInstanceOf(SQLException.class);
            }
            c.createStatement().executeUpdate("update objects set state = 'deleted', deleted_at = now() where key = 'gone'");
            assertThatThrownBy(() -> outbox(c, "gone", null)).isInstanceOf(SQLException.class).hasMessageContaining("deleted");
            outbox(c, "fresh/new.jpg", null); // a new key is fine
        }
        assertThat(p.replication().ledger().find("gone").orElseThrow().state()).isEqualTo(ObjectState.DELETED);
        assertThat(p.replication().ledger().find("fresh/new.jpg")).isPresent();
        assertThat(p.replication().ledger().find(".bunker/backups/app/x.manifest.json")).isEmpty();
    }

    private static void outbox(Connection c, String key, String sha) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select bunker.replicate_object(?, null, ?)")) {
            ps.setString(1, key);
            ps.setString(2, sha);
            ps.executeQuery().close();
        }
    }

    @Test
    void aRottenCopyInTheLockedStoreIsRepairedAsANewLockedVersionAndTheRottenOneIsKept() throws Exception {
        Process p = process(TestConfigs.threeLocalStores(dir));
        byte[] data = bytes(20_000, 5);
        p.replication().ingest().put("precious", new ByteArrayInputStream(data), data.length, null, null);
        p.replication().workers().drain();
        LocalStore vault = (LocalStore) p.stores().get("vault").real();
        byte[] rotten = data.clone();
        rotten[123] ^= 0x20;
        Files.write(vault.pathOf("precious"), rotten); // bit rot under the lock

        try (Drills drills = Engine.drills(p.bunker(), p.replication())) {
            assertThat(drills.objects().run(10).ok()).isFalse();
            assertThat(copyState(p.replication(), "precious", "vault")).isEqualTo("corrupt");
            p.replication().workers().drain();
            assertThat(copyState(p.replication(), "precious", "vault")).isEqualTo("verified");
            assertThat(Files.readAllBytes(vault.pathOf("precious"))).isEqualTo(data);
            assertThat(vault.lockState("precious").legalHold()).isTrue();
            // The rotten version is still there, under its own lock, until that ends.
            assertThatThrownBy(() -> p.stores().get("vault").real().delete("precious")).isInstanceOf(ObjectLockedException.class);
            assertThat(drills.objects().run(10).ok()).isTrue();
        }
    }
}
