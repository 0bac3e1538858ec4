package dev.bunker.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The Object Lock state and older versions of a local store. A version's lock lives on its own file, as
 * the extended attribute {@code user.bunker.lock} (small JSON), so the fsync that makes the bytes durable
 * makes their lock durable too, and the lock moves with the file when a repair displaces it to
 * {@code versions/<sha256 of key>/<id>}; a displaced version keeps its bytes and its protection until its
 * lock ends. Stores written before locks moved onto the files keep them as files ({@code locks/<key>},
 * {@code <id>.lock}): read when a file has no attribute, removed once the attribute is written. Callers
 * hold the key's stripe lock.
 */
final class LocalVersions {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ATTRIBUTE = "bunker.lock";
    private static final String LEGACY_SUFFIX = ".lock";

    /** One displaced version and its lock. */
    record Version(String id, Path file, LockState lock) {}

    private final Path legacyLocks;
    private final Path versions;
    private final DurableFiles files;

    LocalVersions(Path root, DurableFiles files) throws IOException {
        this(root.resolve("locks"), root.resolve("versions"), files);
        Files.createDirectories(versions);
    }

    /** The versions of a store on a read-only file system: read as they are, the folder not created when missing. */
    static LocalVersions reading(Path root, DurableFiles files) {
        return new LocalVersions(root.resolve("locks"), root.resolve("versions"), files);
    }

    private LocalVersions(Path legacyLocks, Path versions, DurableFiles files) {
        this.legacyLocks = legacyLocks;
        this.versions = versions;
        this.files = files;
    }

    /** Fails with a clear reason if the file system cannot keep extended attributes (locks could not be kept). */
    static void checkAttributesSupported(String store, Path probe) {
        try {
            Files.write(probe, new byte[0]);
            writeAttribute(probe, LockState.NONE);
            if (!LockState.NONE.equals(readAttribute(probe))) throw new IOException("the attribute read back differs");
        } catch (IOException | UnsupportedOperationException e) {
            throw new StoreUnavailableException(store, null, "store '" + store + "': the file system at " + probe.getParent()
                    + " cannot keep user extended attributes, where a local store keeps Object Lock state (" + e.getMessage()
                    + "); use ext4, XFS or btrfs (mounted with user_xattr), or tmpfs on Linux 6.6 or later", e);
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // a leftover probe is a temp file, removed at the next start
            }
        }
    }

    /** The lock of the current version, whose bytes are {@code file}; NONE if it has none. */
    LockState current(String key, Path file) throws IOException {
        LockState s = readAttribute(file);
        return s != null ? s : readLegacy(legacyLocks.resolve(key));
    }

    /** Sets the lock of the current version and makes it durable. */
    void setCurrent(String key, Path file, LockState state) throws IOException {
        writeAttribute(file, state);
        DurableFiles.force(file);
        Files.deleteIfExists(legacyLocks.resolve(key));
    }

    /** Puts a lock on a staged file; it becomes durable with the file's own fsync. */
    static void stageLock(Path staged, LockState state) throws IOException {
        writeAttribute(staged, state);
    }

    /** Forgets an old-format lock file of the key (its object is gone or replaced by one carrying its own lock). */
    void clearLegacy(String key) throws IOException {
        Files.deleteIfExists(legacyLocks.resolve(key));
    }

    /** Moves the current object into the versions area under a new id; its lock moves with it. */
    String displace(String key, Path currentFile) throws IOException {
        String id = "v" + System.currentTimeMillis() + "-" + UUID.randomUUID().toString().substring(0, 8);
        // An old-format lock goes onto the file first: the bytes never move without their protection.
        if (readAttribute(currentFile) == null) setCurrent(key, currentFile, current(key, currentFile));
        files.move(currentFile, dirOf(key).resolve(id));
        clearLegacy(key);
        return id;
    }

    List<Version> all(String key) throws IOException {
        List<Version> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dirOf(key))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.endsWith(LEGACY_SUFFIX)) continue;
                LockState s = readAttribute(p);
                out.add(new Version(name, p, s != null ? s : readLegacy(p.resolveSibling(name + LEGACY_SUFFIX))));
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
        writeAttribute(v.file(), state);
        DurableFiles.force(v.file());
        Files.deleteIfExists(v.file().resolveSibling(v.id() + LEGACY_SUFFIX));
    }

    /** Removes one displaced version (an old-format lock file after its bytes: alone it protects nothing). */
    void delete(Version v) throws IOException {
        files.delete(v.file());
        Files.deleteIfExists(v.file().resolveSibling(v.id() + LEGACY_SUFFIX));
    }

    private Path dirOf(String key) {
        return versions.resolve(Sha256.hexOf(key.getBytes(StandardCharsets.UTF_8)));
    }

    /** The lock kept on the file, or null if the file carries none (written before locks moved onto files). */
    private static LockState readAttribute(Path file) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        ByteBuffer buf = ByteBuffer.allocate(512);
        try {
            view.read(ATTRIBUTE, buf);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (FileSystemException e) {
            if (!view.list().contains(ATTRIBUTE)) return null;
            throw e;
        }
        buf.flip();
        return parse(StandardCharsets.UTF_8.decode(buf).toString());
    }

    private static void writeAttribute(Path file, LockState state) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("retainUntil", state.retainUntil() == null ? null : state.retainUntil().toString());
        n.put("legalHold", state.legalHold());
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class).write(ATTRIBUTE, ByteBuffer.wrap(JSON.writeValueAsBytes(n)));
    }

    private static LockState readLegacy(Path f) throws IOException {
        if (!Files.isRegularFile(f)) return LockState.NONE;
        return parse(Files.readString(f));
    }

    private static LockState parse(String json) throws IOException {
        ObjectNode n = (ObjectNode) JSON.readTree(json);
        String until = n.path("retainUntil").asText(null);
        return new LockState(until == null ? null : Instant.parse(until), n.path("legalHold").asBoolean(false));
    }
}
