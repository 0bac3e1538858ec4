package dev.bunker.export;

import dev.bunker.export.ExportException.Reason;
import dev.bunker.export.ExportLedger.Delivery;
import dev.bunker.export.ExportLedger.Subscription;
import dev.bunker.replication.ObjectReads;
import dev.bunker.store.ObjectKeys;
import dev.bunker.store.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Exports of a prefix's live objects back to their owner: one-off ({@code --prefix}) or by subscription, which
 * delivers only what is new since its last delivery and lists what was deleted. Validates every request here, so the
 * CLI and the API refuse the same things with the same words.
 */
public final class Exports {
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    static final Pattern RECIPIENT = Pattern.compile("age1[02-9ac-hj-np-z]{58}");
    /** Session-level lock per export, so two runs of the same export never write at once (released when the run ends or its process dies). */
    static final String LOCK = "select pg_try_advisory_lock(hashtext('bunker-export'), hashtext(?))";
    static final String UNLOCK = "select pg_advisory_unlock(hashtext('bunker-export'), hashtext(?))";

    /** What to export: a subscription's next delivery, or a one-off export of {@code prefix}. */
    public record Request(String subscription, String prefix, Instant since, String recipient, String format, String to, boolean restart) {}

    /** A finished run: the delivery as recorded, where the archive is, and what this run itself wrote. */
    public record Result(Delivery delivery, String location, boolean resumed, long objectsWritten, long bytesWritten, double seconds) {}

    private final DataSource db;
    private final ExportLedger ledger;
    private final Map<String, Store> stores;
    private final String primary;
    private final ObjectKeys.Limits keyLimits;
    private final ObjectReads reads;
    private final Clock clock;
    private final Path dataDir;
    /** How many bytes a run writes between checkpoints (tests make it small). */
    long checkpointBytes = ExportRun.CHECKPOINT_BYTES;

    public Exports(DataSource db, Map<String, Store> stores, String primary, ObjectKeys.Limits keyLimits, ObjectReads reads, Clock clock, Path dataDir) {
        this.db = db;
        this.ledger = new ExportLedger(db);
        this.stores = stores;
        this.primary = primary;
        this.keyLimits = keyLimits;
        this.reads = reads;
        this.clock = clock;
        this.dataDir = dataDir;
    }

    public ExportLedger ledger() {
        return ledger;
    }

    /** Creates a subscription; an existing one of the same name is a conflict, never changed. */
    public Subscription subscribe(String name, String prefix, String recipient, String format, String by) throws SQLException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ExportException(Reason.INVALID, "invalid subscription name '" + name + "': use 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        validatePrefix(prefix);
        validateRecipient(recipient);
        String f = format(format);
        if (!ledger.subscribe(name, prefix, recipient, f, clock.instant(), by)) {
            throw new ExportException(Reason.CONFLICT, "a subscription named '" + name + "' exists already; choose another name");
        }
        return ledger.subscription(name).orElseThrow();
    }

    public Subscription subscription(String name) throws SQLException {
        return ledger.subscription(name).orElseThrow(() -> new ExportException(Reason.NOT_FOUND,
                "no export subscription named '" + name + "'; create it with `bunker export subscribe --name " + name + " --prefix PREFIX`"));
    }

    /** One delivery, of a subscription or a one-off export, by the id the API and the CLI show. */
    public Delivery delivery(String id) throws SQLException {
        long n;
        try {
            n = Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new ExportException(Reason.INVALID, "'" + id + "' is not a delivery id; expected the whole number GET /v1/exports/NAME lists");
        }
        return ledger.delivery(n).orElseThrow(() -> new ExportException(Reason.NOT_FOUND, "no export delivery " + n
                + "; GET /v1/exports lists the latest of each subscription and the one-off exports"));
    }

    /** Runs an export: resumes the interrupted delivery of the same export if there is one, else plans a new one. */
    public Result run(Request r, Consumer<String> progress) throws IOException, SQLException {
        String subscription = r.subscription();
        String prefix;
        String recipient;
        String format;
        // the ledger keeps microseconds: a finer --since would never equal the interrupted delivery's
        Instant since = r.since() == null ? null : r.since().truncatedTo(ChronoUnit.MICROS);
        if (subscription != null) {
            Subscription s = subscription(subscription);
            if (r.prefix() != null || since != null || r.recipient() != null || r.format() != null) {
                throw new ExportException(Reason.INVALID, "subscription '" + subscription + "' has its own prefix, format and key;"
                        + " --prefix, --since, --recipient and --format go with one-off exports only");
            }
            prefix = s.prefix();
            recipient = s.recipient();
            format = s.format();
        } else {
            if (r.prefix() == null) throw new ExportException(Reason.INVALID, "say what to export: --prefix PREFIX, or --subscription NAME");
            validatePrefix(r.prefix());
            validateRecipient(r.recipient());
            prefix = r.prefix();
            recipient = r.recipient();
            format = format(r.format());
        }
        Destination to = Destination.parse(r.to(), stores, primary, keyLimits);
        String lockName = subscription != null ? "subscription:" + subscription : "prefix:" + prefix;
        try (Connection lock = db.getConnection()) {
            if (!lock(lock, LOCK, lockName)) {
                throw new ExportException(Reason.CONFLICT, "another run of this export is going on (" + lockName + "); wait for it to end");
            }
            try {
                Delivery d = ledger.running(subscription, prefix).orElse(null);
                if (d != null && r.restart()) {
                    ledger.abandon(d.id(), "given up by a new run (--restart)", clock.instant());
                    progress.accept("gave up interrupted delivery " + d.id() + "; planning a new one");
                    d = null;
                }
                if (d != null && d.encrypted() && d.recipient() == null) {
                    // started before deliveries kept their key: it cannot be written again as planned
                    ledger.abandon(d.id(), "its age key was not recorded (an older Bunker); planned anew", clock.instant());
                    progress.accept("gave up interrupted delivery " + d.id() + " (its age key was not recorded); planning a new one");
                    d = null;
                }
                if (d != null && subscription == null) {
                    String differs = differences(d, since, format, recipient);
                    if (differs != null) {
                        throw new ExportException(Reason.CONFLICT, "delivery " + d.id() + " of this export was interrupted and was asked with "
                                + differs + "; run again with the same options to finish it, or add --restart to give it up and plan anew");
                    }
                }
                if (d != null && !d.destination().equals(to.describe())) {
                    throw new ExportException(Reason.CONFLICT, "delivery " + d.id() + " of this export was interrupted while writing to "
                            + d.destination() + "; run again with --to " + d.destination() + " to finish it, or add --restart to give it up and plan anew");
                }
                boolean resumed = d != null;
                if (d == null) {
                    String base = (subscription != null ? subscription : "export") + "-";
                    String ext = "." + format + (recipient != null ? ".age" : "");
                    d = ledger.start(subscription, prefix, since, format, recipient, to.describe(),
                            id -> base + String.format("%06d", id) + ext, clock.instant());
                    progress.accept("delivery " + d.id() + ": " + d.objects() + " object(s), " + d.bytes() + " bytes, " + d.deleted() + " deletion(s) to list");
                } else {
                    progress.accept("resuming delivery " + d.id() + " (" + d.doneObjects() + " of " + d.objects() + " objects written)");
                }
                ExportRun run = new ExportRun(ledger, reads, clock, dataDir, d, to, checkpointBytes, progress);
                ExportRun.Written w = run.write();
                Delivery done = ledger.delivery(d.id()).orElseThrow();
                return new Result(done, w.location(), resumed, w.objects(), w.bytes(), w.seconds());
            } finally {
                lock(lock, UNLOCK, lockName);
            }
        }
    }

    /** How an interrupted one-off delivery was asked differently from this request (null: the same). */
    private static String differences(Delivery d, Instant since, String format, String recipient) {
        List<String> out = new ArrayList<>();
        if (!Objects.equals(d.since(), since)) out.add(d.since() == null ? "no --since" : "--since " + d.since());
        if (!d.format().equals(format)) out.add("--format " + d.format());
        if (!Objects.equals(d.recipient(), recipient)) out.add(d.recipient() == null ? "no --recipient" : "--recipient " + d.recipient());
        return out.isEmpty() ? null : String.join(", ", out);
    }

    /** {@code --since last}: when the last finished one-off export of the prefix started (null: never, so everything). */
    public Instant lastOneOff(String prefix) throws SQLException {
        return ledger.lastOneOff(prefix).orElse(null);
    }

    private static boolean lock(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private void validatePrefix(String prefix) {
        if (prefix == null || prefix.isEmpty()) throw new ExportException(Reason.INVALID, "the prefix is empty; export one owner's objects, like users/42/");
        String problem = prefix.endsWith("/") ? ObjectKeys.appKeyProblem(prefix + "x", keyLimits) : ObjectKeys.appKeyProblem(prefix, keyLimits);
        if (problem != null) throw new ExportException(Reason.INVALID, "invalid prefix " + ObjectKeys.quote(prefix) + ": " + problem);
    }

    private static void validateRecipient(String recipient) {
        if (recipient != null && !RECIPIENT.matcher(recipient).matches()) {
            throw new ExportException(Reason.INVALID, "invalid age recipient '" + recipient + "': expected the owner's public key as age-keygen prints it (age1 followed by 58 characters)");
        }
    }

    private static String format(String format) {
        if (format == null) return "tar";
        if (format.equals("tar") || format.equals("zip")) return format;
        throw new ExportException(Reason.INVALID, "unknown export format '" + format + "': use tar or zip");
    }

    /** A folder (created if missing), or {@code store:NAME/path} (not the primary: its objects are the app's). */
    record Destination(Path dir, Store store, String keyPrefix) {
        static Destination parse(String to, Map<String, Store> stores, String primary, ObjectKeys.Limits limits) {
            if (to == null || to.isBlank()) throw new ExportException(Reason.INVALID, "say where to write the archive: --to DIR or --to store:NAME/path");
            if (to.startsWith("store:")) {
                String rest = to.substring("store:".length());
                int slash = rest.indexOf('/');
                String name = slash < 0 ? rest : rest.substring(0, slash);
                String path = slash < 0 ? "" : rest.substring(slash + 1);
                Store store = stores.get(name);
                if (store == null) throw new ExportException(Reason.INVALID, "no store named '" + name + "' in the configuration (stores: " + stores.keySet() + ")");
                if (name.equals(primary)) {
                    throw new ExportException(Reason.INVALID, "store '" + name + "' is the replication primary: an archive there would be taken for an app object; choose another store");
                }
                if (!path.isEmpty() && !path.endsWith("/")) path = path + "/";
                String problem = path.isEmpty() ? null : ObjectKeys.appKeyProblem(path + "x", limits);
                if (problem != null) throw new ExportException(Reason.INVALID, "invalid path in " + to + ": " + problem);
                return new Destination(null, store, path);
            }
            Path dir = Path.of(to).toAbsolutePath().normalize();
            if (Files.exists(dir) && !Files.isDirectory(dir)) throw new ExportException(Reason.INVALID, to + " is a file, not a folder; --to names the folder to write the archive in");
            return new Destination(dir, null, null);
        }

        String describe() {
            return dir != null ? dir.toString() : "store:" + store.name() + "/" + keyPrefix;
        }
    }
}
