package dev.bunker.recovery;

import dev.bunker.backup.Conninfo;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.ConfigLoader;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.config.Durations;
import dev.bunker.config.StoreConfig;
import dev.bunker.mariadb.MariaDbUrl;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The recovery runbook, written from the live configuration: per disaster scenario of {@link RecoveryReport}, the exact
 * commands that recover with this config (its file, store names, sources, the key file), what each step needs, and when a
 * drill or an audit last proved the scenario. The commands are meant to be run as printed, from Bunker's folder.
 */
public final class Runbook {
    /** One step: what to do, the command that does it (null: done by hand, as the text says) and what it needs. */
    public record Step(String text, String command, String needs) {}

    /** One scenario's section. {@code proven}: when a drill or audit last proved it and what it measured. */
    public record Section(String id, String name, String impact, String proven, List<Step> steps) {}

    public record Book(String config, Instant generatedAt, List<Section> scenarios) {}

    private Runbook() {}

    public static Book write(BunkerConfig config, List<RecoveryReport.Scenario> scenarios, Instant now) {
        String opts = options(config);
        List<Section> out = new ArrayList<>();
        for (RecoveryReport.Scenario s : scenarios) {
            List<Step> steps = switch (s.id()) {
                case "region", "cloud" -> s.rpo().startsWith("every object") ? nowhereElse(config, opts) : primaryLost(config, opts);
                case "primary-store" -> primaryLost(config, opts);
                case "deletion" -> deletion(config, opts);
                case "credentials" -> credentials(config, opts);
                case "database" -> database(config, opts);
                case "bunker-database" -> bunkerDatabase(config, opts);
                default -> s.id().startsWith("store-") ? storeLost(config, opts, s.id().substring(6)) : List.of();
            };
            String proven = s.lastProven() == null ? "never: " + s.rto() : s.lastProven() + " (" + s.rto() + ")";
            out.add(new Section(s.id(), s.name(), s.impact(), proven, steps));
        }
        return new Book(config.source(), now, out);
    }

    /**
     * How every command names this config: the file it came from and its data folder (which --data-dir may have moved),
     * or the data folder of the built-in defaults.
     */
    static String options(BunkerConfig config) {
        String dataDir = "--data-dir " + quote(config.dataDir().toAbsolutePath().toString());
        if (config.source().equals(ConfigLoader.BUILT_IN)) return dataDir;
        return "--config " + quote(Path.of(config.source()).toAbsolutePath().toString()) + " " + dataDir;
    }

    private static List<Step> primaryLost(BunkerConfig c, String opts) {
        String primary = c.replication().primary();
        List<String> replicas = c.replication().targets();
        return List.of(
                new Step("See which stores fail and how far replication is behind.", "bin/bunker status " + opts, "read access to Bunker's database"),
                new Step("Reads need nothing: GET /v1/objects/KEY is answered from " + replicas + " while '" + primary + "' fails. Uploads to '"
                        + primary + "' fail meanwhile; the app should retry them.", null, null),
                new Step("When '" + primary + "' is back (repaired, or a new empty " + kind(c.store(primary)) + " under the same name in the config), "
                        + "record what it lacks; serve then copies it back from " + replicas + ".", "bin/bunker reconcile " + opts,
                        "the credentials of every store in the config; serve running (its workers copy)"),
                new Step("Watch the queue drain to 0 jobs waiting.", "bin/bunker status " + opts, null),
                new Step("If '" + primary + "' is gone for good: set replication.primary to one of " + replicas + " in " + c.source()
                        + ", point the app's uploads at that store, and restart serve.", null, "write access to the config"));
    }

    private static List<Step> nowhereElse(BunkerConfig c, String opts) {
        return List.of(
                new Step("Nothing survives this: every store is in the same place. Before it happens, add a store in another region or cloud to "
                        + "the stores and replication.targets in " + c.source() + " and restart serve.", null, "an account in another region or cloud"),
                new Step("Give every object a copy there.", "bin/bunker reconcile " + opts, "serve running"));
    }

    private static List<Step> storeLost(BunkerConfig c, String opts, String store) {
        StoreConfig s = c.stores().get(store);
        return List.of(
                new Step("Make a new " + (s == null ? "store" : kind(s)) + " under the name '" + store + "' in " + c.source()
                        + (s != null && s.lock() != null ? ", with Object Lock on (COMPLIANCE, " + Durations.format(s.lock().period()) + ")" : "")
                        + ", and restart serve.", null, "the cloud account that owns the store"),
                new Step("Check that every store answers.", "bin/bunker stores " + opts, null),
                new Step("Record what the new store lacks; serve copies it there again.", "bin/bunker reconcile " + opts, "serve running"));
    }

    private static List<Step> deletion(BunkerConfig c, String opts) {
        List<String> locked = c.stores().values().stream().filter(s -> s.lock() != null).map(StoreConfig::name).toList();
        return List.of(
                new Step("Stop what is deleting: remove its token from api.tokens in " + c.source() + " (or its store credential in the cloud) "
                        + "and restart serve.", null, "write access to the config"),
                new Step("Objects trashed through the API come back with `bin/bunker trash restore KEY " + opts + "`; list them first.",
                        "bin/bunker trash list " + opts, null),
                new Step("Record every copy the stores lost; serve copies them again from " + (locked.isEmpty() ? "the stores that still hold them"
                        : "the locked store " + locked) + ".", "bin/bunker reconcile " + opts, "serve running"),
                new Step("Watch the queue drain to 0 jobs waiting.", "bin/bunker status " + opts, null));
    }

    private static List<Step> credentials(BunkerConfig c, String opts) {
        return List.of(
                new Step("Make a new token for the app (its scope as before), put its sha256 line in api.tokens in " + c.source()
                        + " in place of the stolen one, restart serve, and give the token to the app.", "bin/bunker token create app --scope write",
                        "write access to the config"),
                new Step("A store credential: rotate it in the cloud's console, put the new one in the config (or its environment variable) "
                        + "and restart serve; a locked store refuses deletes whatever key is used.", null, "the cloud account"),
                new Step("Check that nothing was lost meanwhile.", "bin/bunker reconcile " + opts, null));
    }

    private static List<Step> database(BunkerConfig c, String opts) {
        List<Step> steps = new ArrayList<>();
        Path key = c.drills().identity();
        String keyFile = key == null ? "backup-key.txt" : quote(key.toAbsolutePath().toString());
        String keyNeeds = "the age key file " + (key == null ? "(kept offline; its public key is in backups.recipients)" : key);
        for (BackupSource s : c.backups().sources().values()) {
            if (MariaDbUrl.matches(s.url())) {
                MariaDbUrl u = s.mariaDbUrl();
                String target = "mariadb://$MYSQL_USER@" + u.host() + ":" + u.port() + (u.database() == null ? "" : "/" + u.database());
                steps.add(new Step("Source " + s.name() + ": restore the newest " + (s.binlog() != null ? "dump and all of the binary log stored after it"
                        : "dump") + " into the replacement server (" + (u.database() == null ? "each of its databases is created by name"
                        : "the database is created when missing") + ").",
                        "bin/bunker db restore " + opts + " --source " + s.name() + (s.binlog() != null ? " --to-time latest" : " --backup latest")
                                + " --identity " + keyFile + " --target \"" + target + "\"",
                        keyNeeds + "; MYSQL_USER and MYSQL_PWD of an account that may create the database"));
            } else if (s.pitr() != null) {
                steps.add(new Step("Source " + s.name() + ": restore the newest base backup and all of the WAL stored after it into a new data "
                        + "directory; the server is started on it (see --port) and promoted. To undo a bad change instead, restore to the second "
                        + "before it (--to-time) or to its commit's WAL position (--to-lsn); `bin/bunker db timeline --source " + s.name()
                        + "` shows what can be restored.",
                        "bin/bunker db restore " + opts + " --source " + s.name() + " --to-time latest --identity " + keyFile
                                + " --target-dir " + quote(c.dataDir().toAbsolutePath().resolve("restored-" + s.name()).toString()),
                        keyNeeds + "; PostgreSQL's server binaries of the source's major version on this machine"));
            } else if (s.url().equals("self")) {
                steps.add(new Step("Source " + s.name() + " is Bunker's own database: see \"Bunker's own database lost\".", null, null));
            } else {
                Conninfo u;
                try {
                    u = Conninfo.parse(s.url(), null, null);
                } catch (IllegalArgumentException e) {
                    steps.add(new Step("Source " + s.name() + ": " + e.getMessage() + "; fix its url in the config.", null, null));
                    continue;
                }
                String query = u.query() == null || u.query().isEmpty() ? "" : "?" + u.query();
                steps.add(new Step("Source " + s.name() + ": create an empty database on the replacement server.",
                        "createdb -h " + quote(u.host()) + " -p " + u.port() + " " + quote(u.database()),
                        "PGUSER and PGPASSWORD of a role that may create databases"));
                steps.add(new Step("Restore the newest dump of " + s.name() + " into it.",
                        "bin/bunker db restore " + opts + " --source " + s.name() + " --backup latest --identity " + keyFile
                                + " --target \"postgresql://$PGUSER@" + u.host() + ":" + u.port() + "/" + u.database() + query + "\"",
                        keyNeeds + "; PGUSER and PGPASSWORD of the role that owns the new database"));
            }
        }
        if (steps.isEmpty()) {
            steps.add(new Step("No database is backed up: configure backups.sources.", null, null));
            return steps;
        }
        steps.add(new Step("Point the app at the restored database (unchanged if the replacement took the old address)"
                + (c.drills().dbEnabled() ? ", then run a drill to check the backups still restore." : "."),
                c.drills().dbEnabled() ? "bin/bunker drill db " + opts : null, null));
        return steps;
    }

    private static List<Step> bunkerDatabase(BunkerConfig c, String opts) {
        List<Step> steps = new ArrayList<>(List.of(
                new Step("Start serve on a new, empty database: " + (c.database().embedded() ? "the embedded one is made again in "
                        + c.dataDir().resolve("postgres") + " when that folder is gone" : "create it at database.url") + ".", null, null),
                new Step("Record every object in the primary's listing and every store's copies.", "bin/bunker reconcile " + opts,
                        "the credentials of every store")));
        if (c.backups().enabled()) {
            steps.add(new Step("Read the backup catalog back from the signed manifests in the first backup store.",
                    "bin/bunker db list " + opts + " --store " + c.backups().stores().get(0), null));
        }
        return steps;
    }

    private static String kind(StoreConfig s) {
        return s instanceof StoreConfig.S3 ? "bucket" : "folder";
    }

    /** Quotes for the shell when needed (paths with spaces). */
    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:@=-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    public static String markdown(Book b) {
        StringBuilder out = new StringBuilder("# Recovery runbook\n\nWritten from " + b.config() + " at " + b.generatedAt()
                + ". Run the commands from Bunker's folder.\n");
        for (Section s : b.scenarios()) {
            out.append("\n## ").append(s.name()).append("\n\n**Continuity impact:** ").append(s.impact()).append("\n\n**Last proven:** ")
                    .append(s.proven()).append("\n\n");
            int i = 1;
            for (Step st : s.steps()) {
                out.append(i++).append(". ").append(st.text()).append('\n');
                if (st.command() != null) out.append("\n   ```sh\n   ").append(st.command()).append("\n   ```\n");
                if (st.needs() != null) out.append("\n   Needs: ").append(st.needs()).append('\n');
            }
        }
        return out.toString();
    }

    public static String html(Book b) {
        StringBuilder out = new StringBuilder("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bunker recovery runbook</title>"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body>\n<h1>Recovery runbook</h1>\n<p>Written from "
                + esc(b.config()) + " at " + b.generatedAt() + ". Run the commands from Bunker's folder.</p>\n");
        for (Section s : b.scenarios()) {
            out.append("<h2>").append(esc(s.name())).append("</h2>\n<p><b>Continuity impact:</b> ").append(esc(s.impact()))
                    .append("</p>\n<p><b>Last proven:</b> ").append(esc(s.proven())).append("</p>\n<ol>\n");
            for (Step st : s.steps()) {
                out.append("<li>").append(esc(st.text()));
                if (st.command() != null) out.append("<pre>").append(esc(st.command())).append("</pre>");
                if (st.needs() != null) out.append("<p>Needs: ").append(esc(st.needs())).append("</p>");
                out.append("</li>\n");
            }
            out.append("</ol>\n");
        }
        return out.append("</body></html>\n").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
