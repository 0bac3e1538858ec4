package dev.bunker.backup;

import dev.bunker.tools.ToolProcess;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.mariadb.MariaDbPhysical;
import dev.bunker.mariadb.MariaDbTarget;
import dev.bunker.mariadb.MariaDbTools;
import dev.bunker.mariadb.MariaDbUrl;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Restores a backup into a PostgreSQL database: download, verify SHA-256 and decrypt (one thread), decompress (another) to a
 * private temp file, then {@code pg_restore -j 2} (a MariaDB dump: the {@code mariadb} client). Refuses a target that already has tables unless
 * asked to clean it. Works from the manifests in the stores alone when the catalog is gone.
 */
public final class RestoreBackup {
    static final String USER_TABLES = """
            select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
            """;

    /** What was restored, from where, how long each phase took, and how pg_restore reached the target ({@code via}: TCP or a unix socket). */
    public record Result(Manifest manifest, String store, double downloadSeconds, double restoreSeconds, String via) {}

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final BackupCatalog catalog;
    private final Path dataDir;

    /** {@code catalog} may be null (restore without Bunker's database); {@code dataDir} holds the temp files and this machine's signing key. */
    public RestoreBackup(BackupsConfig config, Map<String, Store> stores, BackupCatalog catalog, Path dataDir) {
        this.config = config;
        this.stores = stores;
        this.catalog = catalog;
        this.dataDir = dataDir;
    }

    /**
     * Finds a backup by id, or the newest ("latest", optionally of one source) in the catalog, else among the
     * trusted manifests in the stores ({@link ManifestTrust}): a manifest nobody trusted signed is never chosen.
     */
    public Manifest find(String ref, String source) throws IOException, SQLException {
        return find(ref, source, false);
    }

    /** As {@link #find(String, String)}, "latest" meaning the newest base backup when {@code base}, else the newest dump or snapshot. */
    public Manifest find(String ref, String source, boolean base) throws IOException, SQLException {
        List<Manifest> known = new ArrayList<>();
        if (catalog != null) {
            try {
                for (BackupCatalog.Entry e : catalog.list()) known.add(e.manifest());
            } catch (SQLException e) {
                // Bunker's own database may be the one lost: fall back to the manifests in the stores.
            }
        }
        Manifest found = pick(known, ref, source, base);
        ManifestTrust trust = ManifestTrust.of(config.signers(), dataDir);
        List<String> refused = new ArrayList<>();
        for (String name : config.stores()) {
            if (found != null) break;
            try {
                BackupCatalog.Found f = BackupCatalog.manifestsIn(stores.get(name), trust);
                refused.addAll(f.refused());
                found = pick(f.trusted(), ref, source, base);
            } catch (StoreException | IOException e) {
                refused.add(name + ": unreadable (" + e.getMessage() + ")"); // try the next store
            }
        }
        if (found == null) {
            String why = refused.isEmpty() ? "" : "; manifests refused: " + String.join("; ", refused.subList(0, Math.min(5, refused.size())))
                    + (refused.size() > 5 ? " (and " + (refused.size() - 5) + " more)" : "")
                    + (trust.trustsAnyone() ? "" : "; no signing key is trusted here: add the backup machine's key (`bunker db signing-key` there) to backups.signers");
            throw new IOException("no " + (base ? "base " : "") + "backup " + (ref.equals("latest") ? "yet" : "\"" + ref + "\"")
                    + (source == null ? "" : " of source " + source)
                    + " in the catalog or the stores " + config.stores() + why + "; `bunker db list --store STORE` shows the backups there are");
        }
        return found;
    }

    /** Every trusted base backup of {@code source}, newest first: from the catalog, else from the first backup store that has any. */
    public List<Manifest> bases(String source) throws IOException {
        return trusted(source, true);
    }

    /** Every trusted dump and snapshot of {@code source}, newest first, as {@link #bases} finds them. */
    public List<Manifest> dumps(String source) throws IOException {
        return trusted(source, false);
    }

    private List<Manifest> trusted(String source, boolean base) throws IOException {
        List<Manifest> out = new ArrayList<>();
        if (catalog != null) {
            try {
                for (BackupCatalog.Entry e : catalog.list()) if (e.manifest().isBase() == base && e.manifest().source().equals(source)) out.add(e.manifest());
            } catch (SQLException e) {
                // Bunker's own database may be the one lost: the stores have the manifests
            }
        }
        ManifestTrust trust = ManifestTrust.of(config.signers(), dataDir);
        for (String name : config.stores()) {
            if (!out.isEmpty()) break;
            try {
                for (Manifest m : BackupCatalog.manifestsIn(stores.get(name), trust).trusted()) if (m.isBase() == base && m.source().equals(source)) out.add(m);
            } catch (StoreException | IOException e) {
                // try the next store
            }
        }
        out.sort((a, b) -> b.finishedAt().compareTo(a.finishedAt()));
        return out;
    }

    private static Manifest pick(List<Manifest> manifests, String ref, String source, boolean base) {
        for (Manifest m : manifests) {
            if (source != null && !m.source().equals(source)) continue;
            if (ref.equals("latest") && m.isBase() != base) continue;
            if (ref.equals("latest") || m.id().equals(ref)) return m;
        }
        return null;
    }

    public Result run(Manifest m, String targetUrl, List<String> identities, boolean clean, Consumer<String> progress)
            throws IOException, SQLException {
        if (m.isBase()) {
            throw new IOException("backup " + m.id() + " is a base backup (a copy of the whole cluster's files), not a dump: restore it into a "
                    + "data directory with `bunker db restore --kind base --backup " + m.id() + " --target-dir DIR`");
        }
        if (m.isMariaDb() != MariaDbUrl.matches(targetUrl)) {
            throw new IOException("backup " + m.id() + " is a " + (m.isMariaDb() ? "MariaDB" : "PostgreSQL") + " dump; restore it into a "
                    + (m.isMariaDb() ? "MariaDB or MySQL database (--target mariadb://USER@HOST:PORT/DB)" : "PostgreSQL database (--target postgresql://USER@HOST:PORT/DB)"));
        }
        if (m.isMariaDb()) return runMariaDb(m, targetUrl, identities, clean, progress);
        Conninfo given = Conninfo.parse(targetUrl, null, null);
        Conninfo target = given.password() != null ? given : Conninfo.parse(targetUrl, null, System.getenv("PGPASSWORD"));
        int major;
        String socketFolders;
        try (Connection c = TakeBackup.connect(target, "the restore target", "check --target (postgresql://USER@HOST:PORT/DB; password in PGPASSWORD)");
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery(USER_TABLES)) {
                rs.next();
                if (rs.getLong(1) > 0 && !clean) {
                    throw new IOException("target database " + target + " is not empty (" + rs.getLong(1)
                            + " tables); restore into an empty database, or pass --clean to drop and replace what the backup contains");
                }
            }
            major = PgTools.serverMajor(s);
            socketFolders = LocalSocket.serverFolders(s); // (a login without pg_read_all_settings may not read it)
        }
        Path pgRestore = PgTools.find("pg_restore", major, config.pgBin());
        return inPrivateTempFile(m.id() + ".dump", dump -> {
            long t0 = System.nanoTime();
            String store = download(m, identities, dump, progress);
            double downloadSeconds = (System.nanoTime() - t0) / 1e9;
            Map<String, String> env = target.password() == null ? Map.of() : Map.of("PGPASSWORD", target.password());
            Optional<LocalSocket.Found> socket = LocalSocket.of(target, socketFolders, pgRestore, dump, env);
            String connect = socket.map(LocalSocket.Found::url).orElse(target.libpqUrl());
            String via = socket.map(f -> "unix socket " + f.folder()).orElse("TCP");
            progress.accept("restoring into " + target + " with pg_restore -j 2 over " + via);
            long t1 = System.nanoTime();
            List<String> cmd = new ArrayList<>(List.of(pgRestore.toString(), "-j", "2", "--no-owner", "--no-privileges", "--no-password"));
            if (clean) cmd.addAll(List.of("--clean", "--if-exists"));
            cmd.addAll(List.of("-d", connect, dump.toString()));
            ToolProcess restore = ToolProcess.start("pg_restore", cmd, env);
            restore.stdout().transferTo(OutputStream.nullOutputStream());
            restore.awaitSuccess();
            return new Result(m, store, downloadSeconds, (System.nanoTime() - t1) / 1e9, via);
        });
    }

    /** A MariaDB dump: verified and decompressed into a private file first (nothing reaches the target before its SHA-256 matched), then loaded by the mariadb client. */
    private Result runMariaDb(Manifest m, String targetUrl, List<String> identities, boolean clean, Consumer<String> progress) throws IOException, SQLException {
        MariaDbUrl url = MariaDbUrl.target(targetUrl);
        if (m.allDatabases() && url.database() != null) {
            throw new IOException("backup " + m.id() + " holds every database of its server (" + String.join(", ", m.databases()) + "), each restored "
                    + "under its own name; give --target without a database: mariadb://USER@" + url.host() + ":" + url.port());
        }
        if (!m.allDatabases() && url.database() == null) {
            throw new IOException("backup " + m.id() + " holds one database; name the one to restore it into: mariadb://USER@" + url.host() + ":"
                    + url.port() + "/DB (created when missing)");
        }
        MariaDbTarget target = new MariaDbTarget(url, m.databases());
        String serverVersion = target.check(clean);
        MariaDbTools.Tool client = MariaDbTools.find(List.of("mariadb", "mysql"), serverVersion, config.mariaDbBin());
        return inPrivateTempFile(m.id() + ".sql", dump -> {
            long t0 = System.nanoTime();
            String store = download(m, identities, dump, progress);
            double downloadSeconds = (System.nanoTime() - t0) / 1e9;
            progress.accept("restoring into " + url + " with " + client.path().getFileName() + " " + client.version());
            long t1 = System.nanoTime();
            try {
                target.createIfMissing(progress);
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
            target.load(client.path(), dump, progress);
            return new Result(m, store, downloadSeconds, (System.nanoTime() - t1) / 1e9, "TCP");
        });
    }

    /** Work on a file that exists only for its duration. */
    public interface FileWork<T> {
        T run(Path file) throws IOException;
    }

    /** Runs {@code work} on a file in a folder of its own under {@code <data-dir>/tmp} (mode 0700), removed afterwards. */
    public <T> T inPrivateTempFile(String name, FileWork<T> work) throws IOException {
        Path dir = TempFolders.createPrivate(dataDir, "restore-");
        Path file = dir.resolve(name);
        try {
            return work.run(file);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A base backup restored: the data directory, the store it came from, how long the download took (with the extraction
     * it overlaps; {@code extractSeconds} is 0 since no step follows it).
     */
    public record BaseResult(Manifest manifest, Path dataDirectory, String store, long files, double downloadSeconds, double extractSeconds) {}

    /**
     * Restores a base backup into {@code targetDir} (new or empty), ready to start as a PostgreSQL data directory of the
     * source's major version. The tar is extracted as it is downloaded, decrypted (one thread) and decompressed (another);
     * a copy that breaks off, does not decrypt or turns out to be other bytes than the manifest's SHA-256 empties the
     * directory again and the next backup store is tried, so a bad copy never leaves half a directory behind.
     */
    public BaseResult runBase(Manifest m, Path targetDir, List<String> identities, Consumer<String> progress) throws IOException {
        if (!m.isBase()) {
            throw new IOException("backup " + m.id() + " is a " + m.kind() + " (" + (m.isMariaDb() ? "mariadb-dump" : "pg_dump")
                    + "), not a base backup: restore it into a database with --target URL");
        }
        BaseBackups.requireNewOrEmpty(targetDir);
        // A MariaDB source's base backup is mariadb-backup's xbstream: unpacked by mbstream, then prepared.
        Path mbstream = m.isMariaDb() ? MariaDbTools.findAny(List.of("mbstream"), config.mariaDbBin()).path() : null;
        Path mariadbBackup = m.isMariaDb() ? MariaDbTools.findAny(List.of("mariadb-backup", "mariabackup"), config.mariaDbBin()).path() : null;
        List<String> problems = new ArrayList<>();
        for (String name : config.stores()) {
            Store store = stores.get(name);
            if (store == null) continue;
            long t0 = System.nanoTime();
            MessageDigest sha = Sha256.newDigest();
            long[] read = {0};
            long files;
            try (InputStream raw = store.get(m.dataKey());
                 InputStream counted = new CountingInputStream(new DigestInputStream(raw, sha), read, m.size(), progress)) {
                InputStream decrypting = AgeCrypto.decrypting(counted, identities);
                files = mbstream != null ? RestoreStreams.unpack(mbstream, decrypting, targetDir) : RestoreStreams.extract(decrypting, targetDir);
            } catch (StoreException e) {
                TempFolders.empty(targetDir);
                problems.add(name + ": " + e.getMessage());
                continue;
            } catch (LocalWriteException e) {
                TempFolders.empty(targetDir);
                throw new IOException(e.getMessage() + "; nothing was restored, and the copy in store '" + name + "' was not at fault: "
                        + "choose a --target-dir on a disk with room for the whole data directory", e);
            } catch (IOException e) {
                TempFolders.empty(targetDir);
                if (e instanceof java.io.InterruptedIOException) throw e; // stopped, not a bad copy: no other store is tried
                if (e.getMessage() != null && e.getMessage().startsWith("unable to decrypt")) throw e; // the wrong key: every copy says so
                // A refused tar entry may be one planted copy's (its SHA-256 is known only at the end): the next store may hold the real one.
                problems.add(name + (e.getMessage() != null && e.getMessage().contains("tar has an entry") ? ": " + e.getMessage()
                        : ": the copy is corrupt or truncated (" + e.getMessage() + ")"));
                continue;
            }
            String actual = Sha256.hex(sha.digest());
            if (!actual.equals(m.sha256()) || read[0] != m.size()) {
                TempFolders.empty(targetDir);
                problems.add(name + ": the copy has SHA-256 " + actual + " (" + read[0] + " bytes), the manifest says " + m.sha256() + " ("
                        + m.size() + " bytes)");
                continue;
            }
            if (!problems.isEmpty()) progress.accept("used store '" + name + "' after: " + String.join("; ", problems));
            double downloadSeconds = (System.nanoTime() - t0) / 1e9;
            if (mariadbBackup == null) return new BaseResult(m, targetDir, name, files, downloadSeconds, 0);
            progress.accept("preparing the data files (mariadb-backup --prepare)");
            long t1 = System.nanoTime();
            MariaDbPhysical.prepare(mariadbBackup, targetDir);
            return new BaseResult(m, targetDir, name, files, downloadSeconds, (System.nanoTime() - t1) / 1e9);
        }
        throw new IOException("backup " + m.id() + " could not be read whole from any backup store " + config.stores() + "; nothing was restored: "
                + String.join("; ", problems));
    }

    /** Refuses a target directory that exists and holds anything (a base or point-in-time restore writes only into an empty one). */
    public static void requireNewOrEmpty(Path dir) throws IOException {
        BaseBackups.requireNewOrEmpty(dir);
    }

    /**
     * Downloads, verifies and decrypts the backup into {@code dump}, from the first backup store that gives it whole: a
     * copy that is missing, truncated, corrupt or does not decrypt is skipped for the next store. Returns the store used.
     */
    public String download(Manifest m, List<String> identities, Path dump, Consumer<String> progress) throws IOException {
        List<String> problems = new ArrayList<>();
        for (String name : config.stores()) {
            Store store = stores.get(name);
            if (store == null) continue;
            MessageDigest sha = Sha256.newDigest();
            long[] read = {0};
            try (InputStream raw = store.get(m.dataKey());
                 InputStream counted = new CountingInputStream(new DigestInputStream(raw, sha), read, m.size(), progress)) {
                RestoreStreams.decompress(AgeCrypto.decrypting(counted, identities), dump);
            } catch (StoreException e) {
                problems.add(name + ": " + e.getMessage());
                continue;
            } catch (LocalWriteException e) { // this machine's disk, not the copy: another store would fail the same way
                throw new IOException(e.getMessage() + "; nothing was restored, and the copy in store '" + name + "' was not at fault: the "
                        + "restore decompresses the whole dump under " + dump.getParent() + " first; free space there, or pass a --data-dir "
                        + "on a disk with room for it", e);
            } catch (IOException e) {
                problems.add(name + ": " + (e.getMessage() != null && e.getMessage().startsWith("unable to decrypt") ? e.getMessage()
                        : "the copy is corrupt or truncated (" + e.getMessage() + ")"));
                continue;
            }
            String actual = Sha256.hex(sha.digest());
            if (!actual.equals(m.sha256()) || read[0] != m.size()) {
                problems.add(name + ": the copy has SHA-256 " + actual + " (" + read[0] + " bytes), the manifest says " + m.sha256() + " ("
                        + m.size() + " bytes)");
                continue;
            }
            if (!problems.isEmpty()) progress.accept("used store '" + name + "' after: " + String.join("; ", problems));
            return name;
        }
        throw new IOException("backup " + m.id() + " could not be read whole from any backup store " + config.stores() + "; nothing was restored: "
                + String.join("; ", problems));
    }

}
