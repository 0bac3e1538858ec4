package dev.bunker.export;

import static dev.bunker.export.ExportTest.filesUnder;
import static dev.bunker.export.ExportTest.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.Bunker;
import dev.bunker.replication.CopyState;
import dev.bunker.store.Sha256;
import dev.bunker.testing.AppDatabases;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Exports at their edges: what is already in the destination folder (a stranger's file, a link), a resumed run asked
 * differently, a primary copy known to be bad, an object replaced since the delivery was planned.
 */
@Timeout(120)
class ExportEdgesTest extends ExportFixture {
    ExportEdgesTest() {
        super(5);
    }

    @Test
    void anInterruptedOneOffIsFinishedOnlyAsItWasAskedSoAnAgeArchiveIsNeverPlain() throws Exception {
        put("users/1/a", 100);
        put("users/1/b", 200);
        replication.workers().drain();
        String recipient = ageKey(dir.resolve("owner.key"));
        Path out = dir.resolve("out");
        hideEverywhere("users/1/b");
        assertThatThrownBy(() -> oneOff("users/1/", recipient, null, out)).hasMessageContaining("users/1/b");
        ExportLedger.Delivery broken = running();
        assertThat(broken.recipient()).isEqualTo(recipient);

        unhideEverywhere("users/1/b");
        assertThatThrownBy(() -> oneOff("users/1/", null, null, out)).isInstanceOf(ExportException.class)
                .hasMessageContaining("--recipient " + recipient).hasMessageContaining("--restart")
                .extracting(e -> ((ExportException) e).reason()).isEqualTo(ExportException.Reason.CONFLICT);
        assertThatThrownBy(() -> oneOff("users/1/", recipient, "zip", out)).hasMessageContaining("--format tar");
        assertThat(out.resolve(broken.fileName())).as("nothing written by the refused runs").doesNotExist();

        Exports.Result done = oneOff("users/1/", recipient, null, out);
        assertThat(done.delivery().id()).isEqualTo(broken.id());
        Path file = Path.of(done.location());
        assertThat(Files.readString(file, StandardCharsets.ISO_8859_1)).startsWith("age-encryption.org/v1");
        Path x = Files.createDirectories(dir.resolve("x"));
        sh(x, "sh", "-c", "age -d -i " + dir.resolve("owner.key") + " " + file + " | tar -xf -");
        assertThat(filesUnder(x.resolve("objects"))).isEqualTo(expected("users/1/"));
    }

    @Test
    void aFileAlreadyAtTheArchivesNameIsNeitherTakenForItNorReplaced() throws Exception {
        put("users/2/a", 100);
        put("users/3/a", 100);
        Path out = dir.resolve("out");
        long first = oneOff("users/2/", null, null, out).delivery().id();
        // Delivery numbers start again when Bunker's database is new: a file of an earlier life is at the next name.
        Path stranger = out.resolve("export-" + String.format("%06d", first + 1) + ".tar");
        Files.writeString(stranger, "an archive delivered long ago");
        assertThatThrownBy(() -> oneOff("users/3/", null, null, out)).isInstanceOf(ExportException.class)
                .hasMessageContaining("already has a file named " + stranger.getFileName()).hasMessageContaining("not this delivery's archive");
        assertThat(Files.readString(stranger)).isEqualTo("an archive delivered long ago");
        assertThat(running().state()).as("recorded as nothing but waiting").isEqualTo("running");

        Files.move(stranger, dir.resolve("moved-away.tar"));
        Exports.Result r = oneOff("users/3/", null, null, out);
        assertThat(r.delivery().state()).isEqualTo("delivered");
        assertThat(r.delivery().id()).isEqualTo(first + 1);
        assertThat(filesUnder(extract(Path.of(r.location())).resolve("objects"))).isEqualTo(expected("users/3/"));

        // Stopped after the archive got its name, before it was recorded: the next run knows it by its sealed SHA-256.
        try (Connection c = bunker.database().connection();
             PreparedStatement ps = c.prepareStatement("update export_deliveries set state = 'running', finished_at = null where id = ?")) {
            ps.setLong(1, r.delivery().id());
            ps.executeUpdate();
        }
        Exports.Result again = oneOff("users/3/", null, null, out);
        assertThat(again.delivery().state()).isEqualTo("delivered");
        assertThat(again.objectsWritten()).as("not written again").isZero();
        assertThat(again.delivery().archiveSha256()).isEqualTo(r.delivery().archiveSha256()).isEqualTo(ExportTest.sha256sumOf(Path.of(r.location())));
    }

    @Test
    void aLinkPlantedAtTheArchivesTemporaryNameIsNeverFollowed() throws Exception {
        put("users/4/a", 100);
        put("users/5/a", 300_000);
        put("users/5/b", 300_000);
        replication.workers().drain();
        Path out = Files.createDirectories(dir.resolve("out"));
        long next = oneOff("users/4/", null, null, out).delivery().id() + 1;
        Path victim = dir.resolve("victim.txt");
        Files.writeString(victim, "someone else's file");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        Path partial = out.resolve("export-" + String.format("%06d", next) + ".tar.partial");
        Files.createSymbolicLink(partial, victim);

        // A fresh run replaces the link with its own private file.
        exports.checkpointBytes = 100_000;
        hideEverywhere("users/5/b");
        assertThatThrownBy(() -> oneOff("users/5/", null, null, out)).hasMessageContaining("users/5/b");
        assertThat(Files.readString(victim)).isEqualTo("someone else's file");
        assertThat(Files.isSymbolicLink(partial)).isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(partial))).isEqualTo("rw-------");
        assertThat(running().resumeOffset()).as("checkpointed after the first object").isNotNull();

        // A link put in its place before the run resumes is refused, not written through.
        Files.delete(partial);
        Files.createSymbolicLink(partial, victim);
        unhideEverywhere("users/5/b");
        assertThatThrownBy(() -> oneOff("users/5/", null, null, out)).hasMessageContaining(partial.toString());
        assertThat(Files.readString(victim)).isEqualTo("someone else's file");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(victim))).isEqualTo("rw-r--r--");
    }

    @Test
    void aZipIsWrittenFromAReplicaOnceThePrimarysCopyIsKnownBad() throws Exception {
        put("users/6/big.bin", 6 << 20); // checked as it streams: a zip cannot cut a bad entry off
        replication.workers().drain();
        Path f = onDisk("primary", "users/6/big.bin");
        byte[] b = Files.readAllBytes(f);
        b[b.length - 10] ^= 1;
        Files.write(f, b);
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> oneOff("users/6/", null, "zip", out)).hasMessageContaining("SHA-256");
        assertThat(replication.ledger().copies("users/6/big.bin")).anyMatch(c -> c.store().equals("primary") && c.state() == CopyState.CORRUPT);
        Exports.Result r = oneOff("users/6/", null, "zip", out);
        Map<String, String> seen = new TreeMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(Path.of(r.location())))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().startsWith("objects/")) seen.put(e.getName().substring(8), Sha256.hexOf(zip.readAllBytes()));
            }
        }
        assertThat(seen).isEqualTo(expected("users/6/"));
    }

    @Test
    void anObjectReplacedSinceThePlanIsLeftOutAndItsGoodCopyNotMarkedCorrupt() throws Exception {
        put("users/7/a", 300_000);
        put("users/7/b", 1000);
        put("users/7/c", 300_000);
        replication.workers().drain();
        exports.checkpointBytes = 100_000;
        Path out = dir.resolve("out");
        hideEverywhere("users/7/b");
        assertThatThrownBy(() -> oneOff("users/7/", null, null, out)).hasMessageContaining("users/7/b");
        unhideEverywhere("users/7/b");
        replication.workers().drain(); // the copies the failed run found missing are checked again and count
        // Purged and uploaded again meanwhile (simulated): other bytes, and the ledger records them.
        byte[] other = new byte[1000];
        random.nextBytes(other);
        Files.write(onDisk("primary", "users/7/b"), other); // the new bytes are on the primary only: not replicated yet
        for (String store : List.of("vault", "shelter")) Files.delete(onDisk(store, "users/7/b"));
        try (Connection c = bunker.database().connection();
             PreparedStatement ps = c.prepareStatement("update objects set sha256 = ? where key = 'users/7/b'")) {
            ps.setString(1, Sha256.hexOf(other));
            ps.executeUpdate();
        }
        List<String> lines = new java.util.ArrayList<>();
        Exports.Result r = exports.run(new Exports.Request(null, "users/7/", null, null, null, out.toString(), false), lines::add);
        assertThat(lines).anyMatch(l -> l.contains("skipped users/7/b") && l.contains("changed since the delivery was planned"));
        Path x = extract(Path.of(r.location()));
        assertThat(sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS")).doesNotContain("FAILED");
        Map<String, String> want = expected("users/7/");
        want.remove("users/7/b");
        assertThat(filesUnder(x.resolve("objects"))).isEqualTo(want);
        assertThat(replication.ledger().copies("users/7/b")).as("the new bytes are not a corrupt copy, nor the replicas looked at")
                .allMatch(c -> c.state() == CopyState.VERIFIED);
    }

    // --- helpers

    Exports.Result oneOff(String prefix, String recipient, String format, Path out) {
        try {
            return exports.run(new Exports.Request(null, prefix, null, recipient, format, out.toString(), false), quiet);
        } catch (java.io.IOException | java.sql.SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    ExportLedger.Delivery running() throws Exception {
        try (Connection c = bunker.database().connection(); var s = c.createStatement();
             var rs = s.executeQuery("select max(id) from export_deliveries where state = 'running'")) {
            rs.next();
            return exports.ledger().delivery(rs.getLong(1)).orElseThrow();
        }
    }

    void hideEverywhere(String key) throws Exception {
        for (String store : List.of("primary", "vault", "shelter")) Files.move(onDisk(store, key), dir.resolve(store + "-hidden"));
    }

    void unhideEverywhere(String key) throws Exception {
        for (String store : List.of("primary", "vault", "shelter")) Files.move(dir.resolve(store + "-hidden"), onDisk(store, key));
    }

    Path extract(Path archive) throws Exception {
        Path into = Files.createDirectories(dir.resolve("x-" + archive.getFileName()));
        sh(into, "tar", "-xf", archive.toString());
        return into;
    }

    static String ageKey(Path file) throws Exception {
        return AppDatabases.ageKey(file);
    }
}
