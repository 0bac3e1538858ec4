package dev.bunker.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The Ed25519 key that signs every backup manifest, kept by the machine that takes backups in
 * {@code <data-dir>/backup-signing.key} (mode 0600, created at the first backup). A manifest is trusted
 * only when signed by this key or by one listed in {@code backups.signers}, so neither an API token
 * nor anyone who can only write to a store can plant a backup that a drill or {@code latest} picks.
 */
public final class SigningKey {
    public static final String FILE = "backup-signing.key";
    private static final String PRIVATE = "private: ";
    private static final String PUBLIC = "public: ";

    private final PrivateKey privateKey;
    private final String publicKey;

    private SigningKey(PrivateKey privateKey, String publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** The key in {@code dataDir}, created (0600) if there is none yet. */
    public static SigningKey loadOrCreate(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) create(file);
        List<String> lines = Files.readAllLines(file);
        String priv = value(lines, PRIVATE, file);
        try {
            PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(priv)));
            return new SigningKey(key, value(lines, PUBLIC, file));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("the backup signing key in " + file + " is damaged (" + e.getMessage() + "); restore it from your "
                    + "secrets backup, or move it away to start a new key (then add the new public key to backups.signers elsewhere)", e);
        }
    }

    /** The public half of the key in {@code dataDir}, if this machine has one; never creates it. */
    public static Optional<String> publicKeyIn(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) return Optional.empty();
        return Optional.of(value(Files.readAllLines(file), PUBLIC, file));
    }

    private static void create(Path file) throws IOException {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no Ed25519", e);
        }
        String text = "# Bunker's backup signing key (Ed25519). Keep it private; give only the public line to other machines\n"
                + "# (backups.signers), so their drills and restores trust the backups this machine signs.\n"
                + PRIVATE + Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()) + "\n"
                + PUBLIC + "ed25519:" + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n";
        Files.createDirectories(file.getParent());
        Path temp = file.resolveSibling(FILE + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temp, text, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        try {
            Files.createLink(file, temp); // another process made one first: keep theirs
        } catch (FileAlreadyExistsException e) {
            // fine
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static String value(List<String> lines, String prefix, Path file) throws IOException {
        return lines.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).trim()).findFirst()
                .orElseThrow(() -> new IOException("the backup signing key file " + file + " has no \"" + prefix.trim() + "\" line"));
    }

    /** "ed25519:BASE64", as {@code backups.signers} lists it. */
    public String publicKey() { return publicKey; }

    /** The detached signature file for {@code manifest}: one line naming the key and the signature of the exact bytes. */
    public byte[] sign(byte[] manifest) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(manifest);
            String line = ManifestTrust.SIGNATURE_HEADER + " " + ManifestTrust.keyId(publicKey) + " "
                    + Base64.getEncoder().encodeToString(s.sign()) + "\n";
            return line.getBytes(StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("unable to sign a manifest with Ed25519", e);
        }
    }
}
