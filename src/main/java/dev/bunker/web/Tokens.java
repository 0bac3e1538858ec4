package dev.bunker.web;

import dev.bunker.config.BunkerConfig.ApiConfig;
import dev.bunker.config.BunkerConfig.TokenConfig;
import dev.bunker.config.BunkerConfig.TokenScope;
import dev.bunker.store.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The API tokens this process accepts. Only SHA-256 hashes are kept; a request's bearer token is
 * hashed and looked up. With no tokens configured, an admin token is generated once into
 * {@code <data-dir>/admin-token} (mode 0600) so a fresh install is usable and still locked.
 */
public final class Tokens {
    public static final String ADMIN_TOKEN_FILE = "admin-token";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, TokenConfig> byHash;
    private final Path generatedFile;

    private Tokens(Map<String, TokenConfig> byHash, Path generatedFile) {
        this.byHash = byHash;
        this.generatedFile = generatedFile;
    }

    /** The configured tokens, or (when none are configured) the generated admin token, created if missing. */
    public static Tokens load(ApiConfig api, Path dataDir) {
        Map<String, TokenConfig> byHash = new HashMap<>();
        for (TokenConfig t : api.tokens().values()) byHash.put(t.sha256(), t);
        if (!byHash.isEmpty()) return new Tokens(byHash, null);
        Path file = dataDir.resolve(ADMIN_TOKEN_FILE);
        String token = readOrCreate(file);
        byHash.put(hash(token), new TokenConfig("admin", TokenScope.ADMIN, hash(token)));
        return new Tokens(byHash, file);
    }

    /** The file holding the generated admin token, if this process uses one. */
    public Optional<Path> generatedFile() { return Optional.ofNullable(generatedFile); }

    /** The token named by an {@code Authorization: Bearer ...} header, if it is one we accept. */
    public Optional<TokenConfig> authenticate(String authorizationHeader) {
        if (authorizationHeader == null) return Optional.empty();
        String h = authorizationHeader.trim();
        if (h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return Optional.empty();
        return Optional.ofNullable(byHash.get(hash(h.substring(7).trim())));
    }

    /** The token a bare secret (a login form's field) names, if it is one we accept. */
    public Optional<TokenConfig> authenticateSecret(String secret) {
        if (secret == null || secret.isBlank() || secret.length() > 1000) return Optional.empty();
        return Optional.ofNullable(byHash.get(hash(secret.trim())));
    }

    public static String newToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return "bkr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static String hash(String token) {
        return Sha256.hexOf(token.getBytes(StandardCharsets.UTF_8));
    }

    private static String readOrCreate(Path file) {
        try {
            if (Files.exists(file)) return Files.readString(file).trim();
            Files.createDirectories(file.getParent());
            String token = newToken();
            Path temp = file.resolveSibling(ADMIN_TOKEN_FILE + ".tmp");
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(temp, token + "\n", StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                Files.createLink(file, temp); // fails if another process created it first: then use theirs
            } catch (FileAlreadyExistsException e) {
                Files.deleteIfExists(temp);
                return Files.readString(file).trim();
            }
            Files.deleteIfExists(temp);
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("unable to create the admin token file " + file + ": " + e.getMessage(), e);
        }
    }
}
