package dev.bunker.db;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Password authentication for the PostgreSQL servers Bunker runs itself (its embedded ledger database and
 * the drills' throwaway servers). zonky's initdb trusts every local connection; before the server first
 * starts, this sets a generated password for the superuser (in single-user mode, so no connection is ever
 * accepted without it) and makes pg_hba.conf require scram-sha-256 for every connection. The binaries are
 * unpacked into a private folder of the user (0700), not a shared /tmp folder another user could plant in.
 */
public final class PasswordAuth {
    private static final String MARKER = "# bunker: every connection needs the password (scram-sha-256)";
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * zonky unpacks the binaries once per JVM per resolver and then ignores the working directory it is given; a
     * resolver of our own keeps ours in the private folder even when the JVM started a plain zonky server first.
     */
    private static final PgBinaryResolver PRIVATE_BINARIES = (os, arch) -> DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(os, arch);

    private PasswordAuth() {}

    /** A zonky builder for a server on {@code dataDir} that accepts only {@code password}, with binaries in a private folder. */
    public static EmbeddedPostgres.Builder builder(Path dataDir, String password) {
        Path binaries = binariesDir();
        return EmbeddedPostgres.builder()
                .setPgBinaryResolver(PRIVATE_BINARIES)
                .setOverrideWorkingDirectory(binaries.toFile())
                .setDataDirectory(dataDir)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("unix_socket_directories", "")
                .setServerConfig("password_encryption", "scram-sha-256")
                .setConnectConfig("password", password) // zonky's readiness check logs in too
                .setDataDirectoryCustomizer(dir -> require(dir, binaries, password));
    }

    /** The secret in {@code file} (mode 0600), created with a random password if there is none yet. */
    public static String readOrCreate(Path file) {
        try {
            if (Files.exists(file)) return Files.readString(file).trim();
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(temp, newPassword() + "\n", StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                Files.createLink(file, temp); // another process made one first: use theirs
            } catch (FileAlreadyExistsException e) {
                // fine
            } finally {
                Files.deleteIfExists(temp);
            }
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("unable to create the database password file " + file + ": " + e.getMessage(), e);
        }
    }

    public static String newPassword() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static Path binariesDir() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path dir = (cache == null || cache.isBlank() ? Path.of(System.getProperty("user.home"), ".cache") : Path.of(cache)).resolve("bunker/embedded-pg");
        try {
            Files.createDirectories(dir.getParent());
            if (!Files.exists(dir)) Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("unable to create " + dir + " for PostgreSQL's binaries: " + e.getMessage(), e);
        }
    }

    /** Runs after initdb and before the server starts; does nothing when the data dir already requires the password. */
    private static void require(File dataDir, Path binaries, String password) {
        Path hba = dataDir.toPath().resolve("pg_hba.conf");
        try {
            if (Files.exists(hba) && Files.readString(hba).startsWith(MARKER)) return;
            setPassword(postgresBinary(binaries), dataDir.toPath(), password);
            Files.writeString(hba, MARKER + "\n"
                    + "local all all scram-sha-256\n"
                    + "host all all 127.0.0.1/32 scram-sha-256\n"
                    + "host all all ::1/128 scram-sha-256\n");
        } catch (IOException e) {
            throw new UncheckedIOException("unable to require a password on the PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /** Single-user mode: no server is listening, so nobody can connect before the password is set. */
    private static void setPassword(Path postgres, Path dataDir, String password) throws IOException {
        List<String> cmd = new ArrayList<>();
        // As zonky runs the server: PostgreSQL refuses to run as root, so as root it runs in a user namespace.
        if (LinuxUtils.isUnshareAvailable()) cmd.addAll(List.of("unshare", "-U"));
        cmd.addAll(List.of(postgres.toString(), "--single", "-D", dataDir.toString(), "-c", "exit_on_error=true", "postgres"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().write(("ALTER ROLE postgres WITH PASSWORD '" + password + "';\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("setting the password in single-user mode did not finish within 60 s: " + out.strip());
            }
            if (p.exitValue() != 0) {
                throw new IOException("setting the password in single-user mode failed (exit " + p.exitValue() + "): " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while setting the database password", e);
        }
    }

    /** The postgres binary zonky unpacked under {@code binaries} (the newest, if several versions were unpacked). */
    private static Path postgresBinary(Path binaries) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(binaries, "PG-*")) {
            for (Path d : ds) if (Files.isExecutable(d.resolve("bin/postgres"))) found.add(d.resolve("bin/postgres"));
        }
        return found.stream().max(Comparator.comparing(PasswordAuth::modified))
                .orElseThrow(() -> new IOException("no postgres binary under " + binaries));
    }

    private static java.nio.file.attribute.FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }
}
