package dev.bunker.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.bunker.mariadb.BinlogPosition;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON written beside every backup: enough to find, verify, decrypt and check it without Bunker's
 * database. A backup without a manifest is not a backup (an interrupted one), and is never listed.
 */
public record Manifest(String id, String source, String kind, Instant startedAt, Instant finishedAt, String serverVersion,
                       String format, String dataKey, long size, String sha256, List<String> recipients, Instant retainUntil,
                       Instant keepUntil, Map<String, Long> rowCounts, Wal wal, String engine, BinlogPosition binlog, List<String> warnings) {
    /** {@code engine} of a MariaDB or MySQL source's dump (plain SQL from mariadb-dump); null for PostgreSQL. */
    public static final String MARIADB = "mariadb";

    /** {@code warnings}: what the backup could not promise (tables a snapshot cannot hold still); none in manifests of earlier builds. */
    public Manifest {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** Without warnings. */
    public Manifest(String id, String source, String kind, Instant startedAt, Instant finishedAt, String serverVersion, String format,
                    String dataKey, long size, String sha256, List<String> recipients, Instant retainUntil, Instant keepUntil,
                    Map<String, Long> rowCounts, Wal wal, String engine, BinlogPosition binlog) {
        this(id, source, kind, startedAt, finishedAt, serverVersion, format, dataKey, size, sha256, recipients, retainUntil, keepUntil,
                rowCounts, wal, engine, binlog, List.of());
    }

    /** A PostgreSQL backup's manifest. */
    public Manifest(String id, String source, String kind, Instant startedAt, Instant finishedAt, String serverVersion, String format,
                    String dataKey, long size, String sha256, List<String> recipients, Instant retainUntil, Instant keepUntil,
                    Map<String, Long> rowCounts, Wal wal) {
        this(id, source, kind, startedAt, finishedAt, serverVersion, format, dataKey, size, sha256, recipients, retainUntil, keepUntil,
                rowCounts, wal, null, null);
    }

    /**
     * A base backup's place in the write-ahead log: where it starts and ends, on which timeline, and the cluster's system
     * identifier, which names the folder of its streamed WAL (null for dumps).
     */
    public record Wal(String start, String end, int timeline, String systemId) {}

    /** A dump's manifest (no WAL position). */
    public Manifest(String id, String source, String kind, Instant startedAt, Instant finishedAt, String serverVersion, String format,
                    String dataKey, long size, String sha256, List<String> recipients, Instant retainUntil, Instant keepUntil,
                    Map<String, Long> rowCounts) {
        this(id, source, kind, startedAt, finishedAt, serverVersion, format, dataKey, size, sha256, recipients, retainUntil, keepUntil,
                rowCounts, null);
    }

    /** Whether this is a MariaDB or MySQL dump (restored with the mariadb client), not a PostgreSQL one. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isMariaDb() {
        return MARIADB.equals(engine);
    }

    /** How a MariaDB dump of every database (a source with all-databases) says so in its format. */
    public static final String ALL_DATABASES = " --databases ";

    /** A MariaDB dump of several databases, each restored under its own name into a server (not one database of any name). */
    public boolean allDatabases() {
        return isMariaDb() && format != null && format.contains(ALL_DATABASES);
    }

    /** The databases whose tables such a dump holds (its row counts are `db`.`table`), in the dump's order. */
    public List<String> databases() {
        java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
        for (String key : rowCounts.keySet()) {
            java.util.regex.Matcher m = QUALIFIED.matcher(key);
            if (m.matches()) out.add(m.group(1).replace("``", "`"));
        }
        return List.copyOf(out);
    }

    private static final java.util.regex.Pattern QUALIFIED = java.util.regex.Pattern.compile("`((?:[^`]|``)+)`\\.`(?:[^`]|``)+`");

    /** Whether this is a base backup (pg_basebackup, restored to a data directory) rather than a dump (pg_restore). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isBase() {
        return "base".equals(kind);
    }

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);
    public static final String SUFFIX = ".manifest.json";
    public static final String SIGNATURE_SUFFIX = ".manifest.sig";
    public static final String DATA_SUFFIX = ".dump.zst.age";
    /** Backups live in Bunker's reserved key space, which no app upload, announce, outbox call or reconcile may write. */
    public static final String ROOT = dev.bunker.store.ObjectKeys.RESERVED_PREFIX + "backups/";
    private static final java.util.regex.Pattern SOURCE = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    /** A backup about to be taken: its id and where its data goes. */
    public record Planned(String id, String source, String kind, java.time.Instant startedAt, String dataKey) {
        static Planned of(String source, String kind, java.time.Instant startedAt) {
            String id = source + "-" + kind + "-" + TakeBackup.ID_TIME.format(startedAt);
            return new Planned(id, source, kind, startedAt, keyPrefix(source) + id + DATA_SUFFIX);
        }
    }

    public byte[] toJson() throws IOException {
        return JSON.writeValueAsBytes(this);
    }

    public static Manifest parse(byte[] json) throws IOException {
        return JSON.readValue(json, Manifest.class);
    }

    public String manifestKey() {
        return keyPrefix(source) + id + SUFFIX;
    }

    public String signatureKey() {
        return keyPrefix(source) + id + SIGNATURE_SUFFIX;
    }

    static String keyPrefix(String source) {
        return ROOT + source + "/";
    }

    /** Null if the id, source and data key follow the layout Bunker writes (the data key can only be this backup's own), else why not. */
    String layoutProblem() {
        if (source == null || !SOURCE.matcher(source).matches()) return "its source \"" + source + "\" is not a source name";
        if (id == null || !id.matches(java.util.regex.Pattern.quote(source) + "-(dump|snapshot|base)-[0-9]{8}T[0-9]{6}Z")) {
            return "its id \"" + id + "\" is not SOURCE-KIND-TIMESTAMP";
        }
        if (!(keyPrefix(source) + id + DATA_SUFFIX).equals(dataKey)) return "its data key " + dataKey + " is not " + keyPrefix(source) + id + DATA_SUFFIX;
        return null;
    }
}
