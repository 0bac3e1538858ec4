package dev.bunker.backup;

import dev.bunker.tools.ToolProcess;
import com.github.luben.zstd.ZstdOutputStream;
import dev.bunker.config.BunkerConfig.BackupKind;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.BunkerConfig.BackupsConfig;
import dev.bunker.mariadb.BinlogPosition;
import dev.bunker.mariadb.DumpRowCounter;
import dev.bunker.mariadb.MariaDbPhysical;
import dev.bunker.mariadb.MariaDbSource;
import dev.bunker.mariadb.MariaDbTools;
import dev.bunker.mariadb.MariaDbUrl;
import dev.bunker.store.LockState;
import dev.bunker.store.PutOptions;
import dev.bunker.store.PutResult;
import dev.bunker.store.Store;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Takes one backup of one source: {@code pg_dump -Fc -Z0} streamed through zstd and age (to the
 * configured public keys) straight into the first backup store (no temp copy, bounded memory), then
 * copied to the other backup stores, each under the kind's COMPLIANCE lock; then a manifest beside
 * it, signed with this machine's {@link SigningKey}, and only then a catalog row. Everything goes under
 * {@link Manifest#ROOT}, Bunker's reserved key space. Row counts are taken in the same snapshot as the dump, for the
 * restore drill to compare. A failure anywhere leaves no manifest and no catalog row.
 */
public final class TakeBackup {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TakeBackup.class);
    static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    static final String TABLES = """
            select quote_ident(n.nspname) || '.' || quote_ident(c.relname)
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
             order by 1
            """;

    private final BackupsConfig config;
    private final Map<String, Store> stores;
    private final BackupCatalog catalog;
    private final Clock clock;
    private final SelfUrl self;
    private final java.nio.file.Path dataDir;

    /** Where {@code url: self} points: Bunker's own database, through a read-only role. */
    @FunctionalInterface
    public interface SelfUrl {
        String get() throws SQLException;
    }

    /** {@code dataDir} holds the signing key ({@link SigningKey}), created at the first backup. */
    public TakeBackup(BackupsConfig config, Map<String, Store> stores, BackupCatalog catalog, Clock clock, SelfUrl self, java.nio.file.Path dataDir) {
        this.dataDir = dataDir;
        this.config = config;
        this.stores = stores;
        this.catalog = catalog;
        this.clock = clock;
        this.self = self;
    }

    public Manifest run(String sourceName, String kindName) throws IOException, SQLException {
        BackupSource source = config.sources().get(sourceName);
        if (source == null) throw new IllegalArgumentException("no backup source \"" + sourceName + "\"; configured: " + config.sources().keySet());
        BackupKind kind = config.kind(sourceName, kindName);
        if (MariaDbUrl.matches(source.url())) return runMariaDb(source, kind);
        Conninfo conn = source.url().equals("self") ? Conninfo.parse(self.get(), null, null)
                : Conninfo.parse(source.url(), source.user(), source.password());
        Instant started = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Manifest.Planned plan = Manifest.Planned.of(sourceName, kind.name(), started);
        String id = plan.id();
        String dataKey = plan.dataKey();
        SigningKey signingKey = SigningKey.loadOrCreate(dataDir); // a damaged key stops the backup before anything is written

        try (Connection db = connectToSource(conn, sourceName)) {
            checkRole(db, conn, sourceName, kind.name().equals("base"));
            int major;
            String serverVersion;
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("select current_setting('server_version_num')::int, version()")) {
                rs.next();
                major = rs.getInt(1) / 10000;
                serverVersion = rs.getString(2);
            }
            Instant retainUntil = retainUntil(kind, started);
            LockState lock = lockUntil(retainUntil);
            List<String> targets = config.stores();
            if (kind.name().equals("base")) {
                Path pgBasebackup = PgTools.find("pg_basebackup", major, config.pgBin());
                String systemId = systemIdentifier(db);
                catalog.attemptStarted(plan, targets); // from here on, prune may remove what this backup leaves if it never finishes
                ToolProcess base = BaseBackups.start(pgBasebackup, conn);
                PutResult first = upload(base, dataKey, kind, lock, targets);
                Manifest.Wal found = BaseBackups.walPosition(base.stderrText());
                Manifest.Wal wal = new Manifest.Wal(found.start(), found.end(), found.timeline(), systemId);
                return publish(new Manifest(id, sourceName, kind.name(), started, clock.instant(), serverVersion,
                        "pg_basebackup -Ft -X fetch | zstd -" + kind.zstdLevel() + " | age (a tar of the data directory)", dataKey, first.size(),
                        first.sha256(), config.recipients(), retainUntil, started.plus(kind.keep()), Map.of(), wal), signingKey, lock, targets);
            }
            Path pgDump = PgTools.find("pg_dump", major, config.pgBin());
            // One snapshot for the row counts and the dump: the drill can compare them exactly.
            db.setAutoCommit(false);
            db.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            db.setReadOnly(true);
            String snapshot;
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("select pg_export_snapshot()")) {
                rs.next();
                snapshot = rs.getString(1);
            }
            Map<String, Long> rowCounts = rowCounts(db);
            catalog.attemptStarted(plan, targets); // from here on, prune may remove what this backup leaves if it never finishes
            PutResult first = upload(startPgDump(pgDump, conn, snapshot), dataKey, kind, lock, targets);
            db.commit();
            return publish(new Manifest(id, sourceName, kind.name(), started, clock.instant(), serverVersion,
                    "pg_dump -Fc -Z0 | zstd -" + kind.zstdLevel() + " | age", dataKey, first.size(), first.sha256(), config.recipients(),
                    retainUntil, started.plus(kind.keep()), rowCounts), signingKey, lock, targets);
        }
    }

    /**
     * A MariaDB or MySQL source's dump: {@code mariadb-dump --single-transaction} streamed as the PostgreSQL dump is, its rows
     * counted on the way through (the dump's own snapshot: see {@link DumpRowCounter}) and its binary log position kept.
     */
    private Manifest runMariaDb(BackupSource source, BackupKind kind) throws IOException, SQLException {
        MariaDbSource db = new MariaDbSource(source.mariaDbUrl(), source.name());
        Instant started = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Manifest.Planned plan = Manifest.Planned.of(source.name(), kind.name(), started);
        SigningKey signingKey = SigningKey.loadOrCreate(dataDir);
        boolean physical = kind.name().equals("base");
        MariaDbSource.Inspected server;
        try {
            server = db.inspect(config.allowSuperuser(), !physical);
        } catch (MariaDbSource.WriterException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (physical) return runMariaDbPhysical(db, server, plan, kind, started, signingKey);
        List<String> warnings = server.nonTransactional().isEmpty() ? List.of() : List.of("tables " + String.join(", ", server.nonTransactional())
                + " have no transactions, so the dump cannot hold them still: rows written to them while it runs may be half in it; convert them "
                + "(ALTER TABLE t ENGINE=InnoDB) or keep writes off them during dumps");
        for (String w : warnings) LOG.warn("backup source '{}': {}", source.name(), w);
        MariaDbTools.Tool dumpTool = MariaDbTools.find(List.of("mariadb-dump", "mysqldump"), server.serverVersion(), config.mariaDbBin());
        Instant retainUntil = retainUntil(kind, started);
        LockState lock = lockUntil(retainUntil);
        List<String> targets = config.stores();
        catalog.attemptStarted(plan, targets); // from here on, prune may remove what this backup leaves if it never finishes
        ToolProcess dump = db.startDump(dumpTool.path(), server.binlog(), server.databases());
        DumpRowCounter counted = new DumpRowCounter(dump.stdout());
        PutResult first = upload(dump, counted, plan.dataKey(), kind, lock, targets);
        if (!counted.completed()) throw new IOException("the dump of source '" + source.name() + "' has no \"-- Dump completed\" line at its end; nothing was kept");
        BinlogPosition binlog = counted.binlogPosition();
        if (server.binlog() && binlog == null) throw new IOException("mariadb-dump recorded no binary log position although the log is on; nothing was kept");
        return publish(new Manifest(plan.id(), source.name(), kind.name(), started, clock.instant(), server.serverVersion(),
                "mariadb-dump " + dumpTool.version() + " --single-transaction" + (source.allDatabases() ? Manifest.ALL_DATABASES.stripTrailing() : "")
                        + " | zstd -" + kind.zstdLevel() + " | age (plain SQL)", plan.dataKey(),
                first.size(), first.sha256(), config.recipients(), retainUntil, started.plus(kind.keep()), counted.rowCounts(), null,
                Manifest.MARIADB, binlog, warnings), signingKey, lock, targets);
    }

    /** A MariaDB source's base backup: mariadb-backup's xbstream of the whole server's data files, streamed as a dump is. */
    private Manifest runMariaDbPhysical(MariaDbSource db, MariaDbSource.Inspected server, Manifest.Planned plan, BackupKind kind, Instant started,
                                        SigningKey signingKey) throws IOException, SQLException {
        MariaDbTools.Tool tool = MariaDbTools.find(List.of("mariadb-backup", "mariabackup"), server.serverVersion(), config.mariaDbBin());
        Instant retainUntil = retainUntil(kind, started);
        LockState lock = lockUntil(retainUntil);
        List<String> targets = config.stores();
        Path work = TempFolders.createPrivate(dataDir, "mariadb-backup-");
        try {
            catalog.attemptStarted(plan, targets);
            ToolProcess backup = MariaDbPhysical.startBackup(tool.path(), db.url(), work);
            PutResult first;
            try {
                first = upload(backup, plan.dataKey(), kind, lock, targets);
            } catch (IOException e) {
                String said = backup.stderrText();
                throw new IOException(e.getMessage() + (said.contains("Access denied") || said.contains("privilege")
                        ? "; the backup user needs: " + MariaDbPhysical.grantAdvice(db.url()) : "")
                        + (said.contains("Can't open") || said.contains("No such file") || said.contains("Permission denied")
                        ? "; mariadb-backup reads the server's data files: run it on the server's machine, as a user that can read its datadir" : ""), e);
            }
            BinlogPosition binlog = MariaDbPhysical.binlogPosition(backup.stderrText());
            return publish(new Manifest(plan.id(), plan.source(), kind.name(), started, clock.instant(), server.serverVersion(),
                    "mariadb-backup " + tool.version() + " --backup --stream=xbstream | zstd -" + kind.zstdLevel() + " | age (every database's files)",
                    plan.dataKey(), first.size(), first.sha256(), config.recipients(), retainUntil, started.plus(kind.keep()), Map.of(), null,
                    Manifest.MARIADB, binlog), signingKey, lock, targets);
        } finally {
            TempFolders.deleteTree(work);
        }
    }

    /** When a backup of {@code kind} started at {@code started} may first be removed (null: the kind has no lock). */
    private static Instant retainUntil(BackupKind kind, Instant started) {
        return kind.lock() == null ? null : started.plus(kind.lock()).plusSeconds(1);
    }

    /** COMPLIANCE retention until {@code retainUntil} (null: none). */
    private static LockState lockUntil(Instant retainUntil) {
        return retainUntil == null ? null : new LockState(retainUntil, false);
    }

    /** Streams the tool's output through zstd and age into the first backup store, then copies it to the others; the tool must succeed. */
    private PutResult upload(ToolProcess tool, String dataKey, BackupKind kind, LockState lock, List<String> targets) throws IOException {
        return upload(tool, tool.stdout(), dataKey, kind, lock, targets);
    }

    /** As above, reading the tool's output through {@code output} (which may look at it on the way). */
    private PutResult upload(ToolProcess tool, InputStream output, String dataKey, BackupKind kind, LockState lock, List<String> targets) throws IOException {
        PutResult first;
        try (InputStream encrypted = new TransformingInputStream(output,
                sink -> new ZstdOutputStream(AgeCrypto.encrypting(sink, config.recipients()), kind.zstdLevel()).setWorkers(kind.zstdWorkers()),
                tool::checkSuccess)) {
            first = stores.get(targets.get(0)).put(dataKey, encrypted, new PutOptions(-1, lock));
        } finally {
            tool.destroy();
        }
        for (String other : targets.subList(1, targets.size())) copy(dataKey, targets.get(0), other, first, lock);
        return first;
    }

    /** The signed manifest beside the data in every backup store, then the catalog row: only now is it a backup. */
    private Manifest publish(Manifest m, SigningKey signingKey, LockState lock, List<String> targets) throws IOException, SQLException {
        byte[] json = m.toJson();
        byte[] signature = signingKey.sign(json);
        for (String target : targets) {
            stores.get(target).put(m.manifestKey(), new ByteArrayInputStream(json), new PutOptions(json.length, lock));
            stores.get(target).put(m.signatureKey(), new ByteArrayInputStream(signature), new PutOptions(signature.length, lock));
        }
        catalog.add(m, targets);
        return m;
    }

    private void copy(String key, String from, String to, PutResult expected, LockState lock) throws IOException {
        try (InputStream in = stores.get(from).get(key)) {
            PutResult r = stores.get(to).put(key, in, new PutOptions(expected.size(), lock));
            if (!r.sha256().equals(expected.sha256())) {
                throw new IOException("the copy of " + key + " in store '" + to + "' has SHA-256 " + r.sha256() + ", expected " + expected.sha256());
            }
        }
    }

    /** The cluster's system identifier (it names the WAL's folder, and base backups record it). */
    public static String systemIdentifier(Connection db) throws SQLException {
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("select system_identifier::text from pg_control_system()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Connects to the backup source {@code sourceName} (dumps, base backups, WAL streaming and watching, slots). */
    public static Connection connectToSource(Conninfo conn, String sourceName) throws SQLException {
        return connect(conn, "backup source '" + sourceName + "'", "check backups.sources." + sourceName + " (url, user, password)");
    }

    public static Connection connect(Conninfo conn, String what, String fix) throws SQLException {
        Properties p = new Properties();
        if (conn.user() != null) p.setProperty("user", conn.user());
        if (conn.password() != null) p.setProperty("password", conn.password());
        p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", "bunker backup");
        try {
            return DriverManager.getConnection(conn.jdbcUrl(), p);
        } catch (SQLException e) {
            throw new SQLException("unable to connect to " + what + " at " + conn + ": " + e.getMessage() + "; " + fix + " and that the server is up", e);
        }
    }

    /**
     * Backups read with a read-only role (pg_read_all_data), never a superuser, unless allow-superuser says otherwise; a
     * base backup needs the REPLICATION attribute too.
     */
    private void checkRole(Connection db, Conninfo conn, String sourceName, boolean base) throws SQLException, IOException {
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("select rolsuper, rolreplication from pg_roles where rolname = current_user")) {
            if (!rs.next()) return;
            if (rs.getBoolean(1) && !config.allowSuperuser()) {
                throw new IOException("backup source '" + sourceName + "' connects as " + conn.user() + ", a superuser; back up with a read-only role "
                        + "(create role backup login; grant pg_read_all_data to backup;) or set backups.allow-superuser: true");
            }
            if (base && !rs.getBoolean(2) && !rs.getBoolean(1)) {
                throw new IOException("backup source '" + sourceName + "' connects as " + conn.user() + ", which may not take base backups: "
                        + "alter role " + conn.user() + " replication; and allow it a replication connection in the server's pg_hba.conf "
                        + "(host replication " + conn.user() + " BUNKER-HOST/32 scram-sha-256)");
            }
        }
    }

    private static Map<String, Long> rowCounts(Connection db) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(TABLES)) {
            while (rs.next()) tables.add(rs.getString(1));
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        try (Statement s = db.createStatement()) {
            for (String t : tables) {
                try (ResultSet rs = s.executeQuery("select count(*) from " + t)) { // names come quoted from quote_ident
                    rs.next();
                    counts.put(t, rs.getLong(1));
                }
            }
        }
        return counts;
    }

    private static ToolProcess startPgDump(Path pgDump, Conninfo conn, String snapshot) throws IOException {
        return ToolProcess.start("pg_dump", List.of(pgDump.toString(), "-Fc", "-Z0", "--no-password", "--snapshot=" + snapshot,
                "-d", conn.libpqUrl()), conn.password() == null ? Map.of() : Map.of("PGPASSWORD", conn.password()));
    }
}
