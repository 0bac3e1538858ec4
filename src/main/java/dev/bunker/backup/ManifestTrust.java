package dev.bunker.backup;

import dev.bunker.store.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which backup manifests to believe: those whose detached signature ({@code .manifest.sig}) verifies
 * with a trusted key (this machine's own, and {@code backups.signers}), and whose keys follow the
 * backup layout, so a manifest can only ever point at its own backup's data.
 */
public final class ManifestTrust {
    static final String SIGNATURE_HEADER = "bunker-manifest-signature-v1 ed25519";

    private final Map<String, PublicKey> byId = new LinkedHashMap<>();

    /** Trusts {@code signers} ("ed25519:BASE64") and, if this data dir has a signing key, its public half. */
    public static ManifestTrust of(List<String> signers, Path dataDir) throws IOException {
        ManifestTrust t = new ManifestTrust();
        for (String s : signers) t.add(s);
        SigningKey.publicKeyIn(dataDir).ifPresent(t::add);
        return t;
    }

    private void add(String signer) {
        try {
            byte[] der = Base64.getDecoder().decode(signer.substring("ed25519:".length()));
            byId.put(keyId(signer), KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        } catch (GeneralSecurityException | IllegalArgumentException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("\"" + signer + "\" is not an Ed25519 public key as `bunker db signing-key` prints it", e);
        }
    }

    static String keyId(String publicKey) {
        return Sha256.hexOf(publicKey.getBytes(StandardCharsets.US_ASCII)).substring(0, 16);
    }

    public boolean trustsAnyone() {
        return !byId.isEmpty();
    }

    /** Null if {@code manifest} (its exact bytes, found at {@code manifestKey}) is to be believed, else why not. */
    public String problem(Manifest manifest, String manifestKey, byte[] manifestBytes, byte[] signatureFile) {
        String layout = manifest.layoutProblem();
        if (layout != null) return layout;
        if (!manifestKey.equals(manifest.manifestKey())) return "it lies at " + manifestKey + " but names itself " + manifest.manifestKey();
        if (signatureFile == null) return "it has no signature (" + manifest.signatureKey() + " is missing)";
        return signatureProblem(manifestBytes, signatureFile);
    }

    /** Null if {@code signatureFile} (a line {@link SigningKey#sign} wrote) is a trusted key's signature of exactly {@code content}, else why not. */
    public String signatureProblem(byte[] content, byte[] signatureFile) {
        String[] parts = new String(signatureFile, StandardCharsets.US_ASCII).trim().split(" ");
        if (parts.length != 4 || !(parts[0] + " " + parts[1]).equals(SIGNATURE_HEADER)) return "its signature file is not one Bunker writes";
        PublicKey key = byId.get(parts[2]);
        if (key == null) {
            return "it is signed by key " + parts[2] + ", which is not trusted here; add that machine's public key (`bunker db signing-key`) to backups.signers";
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(content);
            if (!s.verify(Base64.getDecoder().decode(parts[3]))) return "its signature does not match its contents (it was changed after signing)";
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return "its signature cannot be read: " + e.getMessage();
        }
        return null;
    }
}
