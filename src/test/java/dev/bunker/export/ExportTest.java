package dev.bunker.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.Engine;
import dev.bunker.json.Json;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.testing.AppDatabases;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Exports end to end on a real PostgreSQL and local stores, checked with the standard tools a user has: tar, sha256sum, age. */
@Timeout(120)
class ExportTest extends ExportFixture {
    ExportTest() {
        super(11);
    }
    Exports.Result run(String subscription, Path to) throws Exception {
        return exports.run(new Exports.Request(subscription, null, null, null, null, to.toString(), false), quiet);
    }

    @Test
    void aSubscriptionDeliversOnlyWhatIsNewAndListsDeletionsAsTarAndSha256sumSeeThem() throws Exception {
        for (int i = 0; i < 5; i++) put("users/42/photos/" + i + ".jpg", 1000 + i * 70_000);
        put("users/42/notes/ünïcode name with spaces & 'quotes'.txt", 10);
        put("users/42/" + "long-".repeat(40) + "/deep.bin", 5 << 20); // past ustar's 100-char names; streamed, not buffered
        put("users/7/other.jpg", 500); // someone else's: never exported
        put("users/42_x/lookalike.jpg", 10); // '_' in a LIKE pattern must not match any character
        exports.subscribe("u42", "users/42/", null, null, "test");
        Path out = dir.resolve("out");

        Exports.Result first = run("u42", out);
        assertThat(first.delivery().state()).isEqualTo("delivered");
        assertThat(first.delivery().objects()).isEqualTo(7);
        Path archive1 = Path.of(first.location());
        assertThat(archive1.getFileName().toString()).isEqualTo("u42-" + String.format("%06d", first.delivery().id()) + ".tar");
        assertThat(sha256sumOf(archive1)).isEqualTo(first.delivery().archiveSha256());
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(archive1))).as("a user's data: owner only").isEqualTo("rw-------");
        Path x1 = extract(archive1, dir.resolve("x1"));
        assertThat(sh(x1, "sha256sum", "-c", "--strict", "SHA256SUMS")).contains(": OK").doesNotContain("FAILED");
        assertThat(filesUnder(x1.resolve("objects"))).isEqualTo(expected("users/42/"));
        JsonNode manifest1 = Json.MAPPER.readTree(x1.resolve("MANIFEST.json").toFile());
        assertThat(manifest1.get("objects")).hasSize(7);
        assertThat(manifest1.get("deleted")).isEmpty();

        // New uploads and a deletion: the second delivery holds exactly the new objects and names the deleted one.
        put("users/42/photos/5.jpg", 3000);
        put("users/42/photos/6.jpg", 4000);
        Lifecycle lifecycle = Engine.lifecycle(bunker);
        lifecycle.trash().trash("users/42/photos/0.jpg", "test");
        Exports.Result second = run("u42", out);
        assertThat(second.delivery().objects()).isEqualTo(2);
        assertThat(second.delivery().deleted()).isEqualTo(1);
        Path x2 = extract(Path.of(second.location()), dir.resolve("x2"));
        assertThat(sh(x2, "sha256sum", "-c", "--strict", "SHA256SUMS")).contains("objects/users/42/photos/5.jpg: OK");
        Map<String, byte[]> news = new TreeMap<>(Map.of("users/42/photos/5.jpg", stored.get("users/42/photos/5.jpg"),
                "users/42/photos/6.jpg", stored.get("users/42/photos/6.jpg")));
        assertThat(filesUnder(x2.resolve("objects"))).isEqualTo(keysWithHashes(news));
        JsonNode manifest2 = Json.MAPPER.readTree(x2.resolve("MANIFEST.json").toFile());
        assertThat(manifest2.get("deleted")).hasSize(1);
        assertThat(manifest2.at("/deleted/0/key").asText()).isEqualTo("users/42/photos/0.jpg");

        // Nothing new: an empty delivery, which still says so; the deletion is not listed twice.
        Exports.Result third = run("u42", out);
        assertThat(third.delivery().objects()).isZero();
        assertThat(third.delivery().deleted()).isZero();
        // Restored from the trash, the object is live again: delivered again.
        lifecycle.trash().restore("users/42/photos/0.jpg", "test");
        assertThat(run("u42", out).delivery().objects()).isEqualTo(1);
        assertThat(exports.ledger().deliveries("u42", 10)).hasSize(4).allMatch(d -> d.state().equals("delivered"));
    }

    @Test
    void anEncryptedExportOpensOnlyWithTheOwnersKeyThroughTheAgeCli() throws Exception {
        put("users/9/a.txt", 100);
        put("users/9/b.bin", 6 << 20);
        Path key = dir.resolve("owner.key");
        String recipient = AppDatabases.ageKey(key);
        Exports.Result r = exports.run(new Exports.Request(null, "users/9/", null, recipient, null, dir.resolve("out").toString(), false), quiet);
        Path file = Path.of(r.location());
        assertThat(file.getFileName().toString()).endsWith(".tar.age");
        assertThat(Files.readString(file, StandardCharsets.ISO_8859_1)).startsWith("age-encryption.org/v1").doesNotContain("users/9/a.txt");
        Path x = dir.resolve("x");
        Files.createDirectories(x);
        sh(x, "sh", "-c", "age -d -i " + key + " " + file + " | tar -xf -");
        assertThat(sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS")).contains("objects/users/9/b.bin: OK");
        assertThat(filesUnder(x.resolve("objects"))).isEqualTo(expected("users/9/"));
    }

    @Test
    void aZipExportHoldsTheSameBytes() throws Exception {
        put("users/3/a.txt", 100);
        put("users/3/b/c.bin", 70_000);
        Exports.Result r = exports.run(new Exports.Request(null, "users/3/", null, null, "zip", dir.resolve("out").toString(), false), quiet);
        Map<String, String> seen = new TreeMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(Path.of(r.location())))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().startsWith("objects/")) seen.put(e.getName().substring(8), dev.bunker.store.Sha256.hexOf(zip.readAllBytes()));
            }
        }
        assertThat(seen).isEqualTo(expected("users/3/"));
    }

    @Test
    void aCopyWithWrongBytesIsNeverDeliveredTheReplicaIs() throws Exception {
        put("users/5/big.bin", 6 << 20); // larger than what is checked before sending: checked as it streams
        put("users/5/small.bin", 1000);
        replication.workers().drain();
        for (String k : List.of("users/5/big.bin", "users/5/small.bin")) { // silent damage on the primary's disk
            Path f = onDisk("primary", k);
            byte[] b = Files.readAllBytes(f);
            b[b.length / 2] ^= 1;
            Files.write(f, b);
        }
        Exports.Result r = exports.run(new Exports.Request(null, "users/5/", null, null, null, dir.resolve("out").toString(), false), quiet);
        Path x = extract(Path.of(r.location()), dir.resolve("x"));
        assertThat(sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS")).doesNotContain("FAILED");
        assertThat(filesUnder(x.resolve("objects"))).isEqualTo(expected("users/5/"));
        assertThat(sh(x, "tar", "-tf", r.location()).lines().filter(l -> l.endsWith("big.bin")).count()).as("the bad entry was cut off, not kept").isEqualTo(1);
        for (String k : List.of("users/5/big.bin", "users/5/small.bin")) {
            assertThat(replication.ledger().copies(k)).anyMatch(c -> c.store().equals("primary") && c.state().toString().equals("corrupt"));
        }
    }

    @Test
    void anExportBrokenMidwayResumesWithoutDuplicatesOrGaps() throws Exception {
        for (int i = 0; i < 12; i++) put("users/8/" + (char) ('a' + i) + ".bin", 200_000);
        replication.workers().drain();
        exports.subscribe("u8", "users/8/", null, null, "test");
        exports.checkpointBytes = 500_000; // a checkpoint every third object
        // Every store loses the 9th object's bytes for a while: the run stops there.
        Path out = dir.resolve("out");
        List<String> lines = new ArrayList<>();
        for (String store : List.of("primary", "vault", "shelter")) Files.move(onDisk(store, "users/8/i.bin"), dir.resolve(store + "-i.bin"));
        assertThatThrownBy(() -> exports.run(new Exports.Request("u8", null, null, null, null, out.toString(), false), lines::add))
                .hasMessageContaining("users/8/i.bin");
        ExportLedger.Delivery broken = exports.ledger().deliveries("u8", 1).get(0);
        assertThat(broken.state()).isEqualTo("running");
        assertThat(broken.error()).contains("users/8/i.bin");
        assertThat(out.resolve(broken.fileName())).doesNotExist();
        assertThat(out.resolve(broken.fileName() + ".partial")).exists();

        // Another destination is refused while it waits; the same one resumes it.
        assertThatThrownBy(() -> run("u8", dir.resolve("elsewhere"))).isInstanceOf(ExportException.class)
                .hasMessageContaining("interrupted while writing to " + out);
        for (String store : List.of("primary", "vault", "shelter")) Files.move(dir.resolve(store + "-i.bin"), onDisk(store, "users/8/i.bin"));
        put("users/8/z-late.bin", 10); // uploaded meanwhile: left for the next delivery
        Exports.Result resumed = run("u8", out);
        assertThat(resumed.resumed()).isTrue();
        assertThat(resumed.delivery().id()).isEqualTo(broken.id());
        assertThat(resumed.delivery().objects()).isEqualTo(12);
        assertThat(broken.resumeOffset()).as("checkpointed before it broke").isNotNull();
        assertThat(resumed.objectsWritten()).as("resumed after the checkpoint, not from the start").isBetween(4L, 9L);
        Path x = extract(Path.of(resumed.location()), dir.resolve("x"));
        assertThat(sh(x, "sha256sum", "-c", "--strict", "SHA256SUMS")).doesNotContain("FAILED");
        List<String> entries = sh(x, "tar", "-tf", resumed.location()).lines().filter(l -> l.startsWith("objects/")).toList();
        assertThat(entries).hasSize(12).doesNotHaveDuplicates();
        assertThat(run("u8", out).delivery().objects()).isEqualTo(1); // the late one
    }

    @Test
    void hostileAndCarelessRequestsAreRefusedAndChangeNothing() throws Exception {
        put("users/1/a", 10);
        String out = dir.resolve("out").toString();
        assertThatThrownBy(() -> exports.subscribe("U 1; drop table", "users/1/", null, null, "t")).hasMessageContaining("invalid subscription name");
        assertThatThrownBy(() -> exports.subscribe("u1", "../../etc/", null, null, "t")).hasMessageContaining("invalid prefix");
        assertThatThrownBy(() -> exports.subscribe("u1", ".bunker/", null, null, "t")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> exports.subscribe("u1", "users/1/", "age1notakey", null, "t")).hasMessageContaining("invalid age recipient");
        assertThatThrownBy(() -> exports.subscribe("u1", "users/1/", null, "rar", "t")).hasMessageContaining("unknown export format");
        assertThat(exports.ledger().subscriptions()).isEmpty();
        exports.subscribe("u1", "users/1/", null, null, "t");
        assertThatThrownBy(() -> exports.subscribe("u1", "users/2/", null, null, "t")).isInstanceOf(ExportException.class)
                .extracting(e -> ((ExportException) e).reason()).isEqualTo(ExportException.Reason.CONFLICT);
        assertThatThrownBy(() -> run("nobody", dir.resolve("out"))).extracting(e -> ((ExportException) e).reason()).isEqualTo(ExportException.Reason.NOT_FOUND);
        assertThatThrownBy(() -> exports.run(new Exports.Request(null, "users/1/", null, null, null, "store:primary/exports", false), quiet))
                .hasMessageContaining("replication primary");
        assertThatThrownBy(() -> exports.run(new Exports.Request(null, "users/1/", null, null, null, "store:nope/x", false), quiet))
                .hasMessageContaining("no store named 'nope'");
        Files.writeString(dir.resolve("afile"), "x");
        assertThatThrownBy(() -> exports.run(new Exports.Request(null, "users/1/", null, null, null, dir.resolve("afile").toString(), false), quiet))
                .hasMessageContaining("is a file");
        assertThat(exports.ledger().deliveries("u1", 10)).isEmpty();
        assertThat(Path.of(out)).doesNotExist();
    }

    @Test
    void anExportToAStoreIsPutThereWhole() throws Exception {
        put("users/4/a", 1234);
        Exports.Result r = exports.run(new Exports.Request(null, "users/4/", null, null, null, "store:shelter/exports/u4", false), quiet);
        assertThat(r.location()).isEqualTo("store:shelter/exports/u4/" + r.delivery().fileName());
        byte[] archive;
        try (var in = bunker.store("shelter").get("exports/u4/" + r.delivery().fileName())) {
            archive = in.readAllBytes();
        }
        assertThat(dev.bunker.store.Sha256.hexOf(archive)).isEqualTo(r.delivery().archiveSha256());
        assertThat(Files.list(dir.resolve("tmp")).toList()).as("no work files left").isEmpty();
    }

    @Test
    void serveDeliversEachSubscriptionWhenItIsDue() throws Exception {
        put("users/1/a", 10);
        put("users/2/b", 20);
        exports.subscribe("u1", "users/1/", null, null, "t");
        exports.subscribe("u2", "users/2/", null, null, "t");
        Path to = dir.resolve("scheduled");
        ExportSchedule schedule = new ExportSchedule(exports, new dev.bunker.config.BunkerConfig.ExportsConfig(java.time.Duration.ofDays(1), to.toString()), clock);
        assertThat(schedule.runDue()).isEqualTo(2);
        assertThat(to.resolve("u1").resolve(exports.ledger().deliveries("u1", 1).get(0).fileName())).exists();
        assertThat(schedule.runDue()).as("not due again within the day").isZero();
        put("users/1/c", 30);
        clock.advance(java.time.Duration.ofDays(1));
        assertThat(schedule.runDue()).isEqualTo(2);
        assertThat(exports.ledger().deliveries("u1", 1).get(0).objects()).isEqualTo(1);
        assertThat(exports.ledger().deliveries("u2", 1).get(0).objects()).isZero();
    }

    // --- helpers

    static Map<String, String> keysWithHashes(Map<String, byte[]> objects) {
        Map<String, String> out = new TreeMap<>();
        objects.forEach((k, v) -> out.put(k, dev.bunker.store.Sha256.hexOf(v)));
        return out;
    }

    /** Every file under {@code root}, by path relative to it, with its SHA-256. */
    static Map<String, String> filesUnder(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), dev.bunker.store.Sha256.hexOf(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    Path extract(Path archive, Path into) throws Exception {
        Files.createDirectories(into);
        sh(into, "tar", "-xf", archive.toString());
        return into;
    }

    static String sha256sumOf(Path file) throws Exception {
        return sh(file.getParent(), "sha256sum", file.toString()).split(" ")[0];
    }

    /** Runs a standard tool; fails the test when it fails. */
    static String sh(Path cwd, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }
}
