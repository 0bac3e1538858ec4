package dev.bunker.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The lock files and older versions of a local store. The current version's lock is a small JSON
 * file at {@code locks/<key>}; a version displaced by a repair lives at
 * {@code versions/<sha256 of key>/<id>} with its lock beside it as {@code <id>.lock}, so it keeps
 * its bytes and its protection until its lock ends. Callers hold the key's stripe lock.
 */
final class LocalVersions {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LOCK_SUFFIX = ".lock";

    /** One displaced version and its lock. */
    record Version(String id, Path file, LockState lock) {}

    private final Path locks;
    private final Path versions;
    private final Path tmp;
    private final DurableFiles files;

    LocalVersions(Path root, DurableFiles files) throws IOException {
        this.locks = root.resolve("locks");
        this.versions = root.resolve("versions");
        this.tmp = root.resolve("tmp");
        this.files = files;
        Files.createDirectories(locks);
        Files.createDirectories(versions);
    }

    LockState current(String key) throws IOException {
        return read(locks.resolve(key));
    }

    void setCurrent(String key, LockState state) throws IOException {
        write(locks.resolve(key), state);
    }

    /** Drops the current version's lock file (the next object written under the key starts unlocked). */
    void clearCurrent(String key) throws IOException {
        Files.deleteIfExists(locks.resolve(key));
    }

    /** Moves the current object and its lock into the versions area under a new id; its protection moves with it. */
    String displace(String key, Path currentFile) throws IOException {
        String id = "v" + System.currentTimeMillis() + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = dirOf(key);
        // The lock first: a crash in between leaves a lock without bytes (harmless), never bytes without their lock.
        write(dir.resolve(id + LOCK_SUFFIX), current(key));
        files.move(currentFile, dir.resolve(id));
        clearCurrent(key);
        return id;
    }

    List<Version> all(String key) throws IOException {
        List<Version> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dirOf(key))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.endsWith(LOCK_SUFFIX)) continue;
                out.add(new Version(name, p, read(p.resolveSibling(name + LOCK_SUFFIX))));
            }
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    Path file(String key, String id) {
        if (!id.matches("v[0-9]+-[0-9a-f]{8}")) throw new IllegalArgumentException("not a version id of a local store: " + id);
        return dirOf(key).resolve(id);
    }

    void setVersion(Version v, LockState state) throws IOException {
        write(v.file().resolveSibling(v.id() + LOCK_SUFFIX), state);
    }

    /** Removes one displaced version, bytes first: a crash in between leaves a lock without bytes, which protects nothing. */
    void delete(Version v) throws IOException {
        files.delete(v.file());
        Files.deleteIfExists(v.file().resolveSibling(v.id() + LOCK_SUFFIX));
    }

    private Path dirOf(String key) {
        return versions.resolve(Sha256.hexOf(key.getBytes(StandardCharsets.UTF_8)));
    }

    private static LockState read(Path f) throws IOException {
        if (!Files.isRegularFile(f)) return LockState.NONE;
        ObjectNode n = (ObjectNode) JSON.readTree(f.toFile());
        String until = n.path("retainUntil").asText(null);
        return new LockState(until == null ? null : Instant.parse(until), n.path("legalHold").asBoolean(false));
    }

    private void write(Path f, LockState state) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("retainUntil", state.retainUntil() == null ? null : state.retainUntil().toString());
        n.put("legalHold", state.legalHold());
        Path temp = tmp.resolve(UUID.randomUUID() + LOCK_SUFFIX);
        try {
            files.write(temp, JSON.writeValueAsBytes(n));
            files.move(temp, f);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
