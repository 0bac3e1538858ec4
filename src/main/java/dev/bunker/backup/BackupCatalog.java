package dev.bunker.backup;

import dev.bunker.db.Tx;
import dev.bunker.store.ListPage;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The catalog table of backups, and its rebuild from the manifests in a store. All its SQL is here. */
public final class BackupCatalog {
    /** A cataloged backup: its manifest and the stores that hold it. */
    public record Entry(Manifest manifest, List<String> stores) {}

    static final String UPSERT = """
            insert into backups (id, source, kind, started_at, finished_at, size, sha256, retain_until, keep_until, stores, manifest)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
            on conflict (id) do update set stores = array(select distinct s from unnest(backups.stores || excluded.stores) s)
            """;
    static final String LIST = "select manifest::text, stores from backups order by finished_at desc";
    static final String REMOVE = "delete from backups where id = ?";
    static final String NEWEST = "select max(finished_at) from backups where source = ? and kind = ?";
    static final String ATTEMPT = "insert into backup_attempts (id, source, kind, data_key, stores, started_at) values (?, ?, ?, ?, ?, ?)";
    static final String ATTEMPT_DONE = "delete from backup_attempts where id = ?";
    static final String ATTEMPTS_BEFORE = "select id, data_key, stores from backup_attempts where started_at < ? order by started_at";
    /** Per source, the newest backup a database drill restored and passed: prune keeps it whatever its age. */
    static final String PROVEN = """
            select distinct on (b.source) b.id
              from drill_runs d join backups b on b.id = d.backup_id
             where d.kind = 'db' and d.ok
             order by b.source, b.finished_at desc
            """;

    /** A backup Bunker began: what it writes where, so its leftovers can be removed if it never finishes. */
    public record Attempt(String id, String dataKey, List<String> stores) {}

    private final DataSource db;

    public BackupCatalog(DataSource db) {
        this.db = db;
    }

    /** Catalogs a finished backup and ends its attempt, in one transaction. */
    public void add(Manifest m, List<String> stores) throws SQLException, IOException {
        byte[] json = m.toJson();
        Tx.execute(db, c -> {
            upsert(c, m, stores, json);
            try (PreparedStatement ps = c.prepareStatement(ATTEMPT_DONE)) {
                ps.setString(1, m.id());
                ps.executeUpdate();
            }
        });
    }

    private static void upsert(Connection c, Manifest m, List<String> stores, byte[] json) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            ps.setString(1, m.id());
            ps.setString(2, m.source());
            ps.setString(3, m.kind());
            ps.setTimestamp(4, Timestamp.from(m.startedAt()));
            ps.setTimestamp(5, Timestamp.from(m.finishedAt()));
            ps.setLong(6, m.size());
            ps.setString(7, m.sha256());
            ps.setTimestamp(8, m.retainUntil() == null ? null : Timestamp.from(m.retainUntil()));
            ps.setTimestamp(9, Timestamp.from(m.keepUntil()));
            ps.setArray(10, c.createArrayOf("text", stores.toArray()));
            ps.setString(11, new String(json, java.nio.charset.StandardCharsets.UTF_8));
            ps.executeUpdate();
        }
    }

    /** Every cataloged backup, newest first. */
    public List<Entry> list() throws SQLException, IOException {
        List<Entry> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(LIST); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Array stores = rs.getArray(2);
                out.add(new Entry(Manifest.parse(rs.getString(1).getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                        List.of((String[]) stores.getArray())));
            }
        }
        return out;
    }

    /** When the newest backup of {@code source} and {@code kind} finished; null if there is none. */
    public java.time.Instant newest(String source, String kind) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(NEWEST)) {
            ps.setString(1, source);
            ps.setString(2, kind);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1) == null ? null : rs.getTimestamp(1).toInstant();
            }
        }
    }

    public void remove(String id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(REMOVE)) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }

    public void attemptStarted(Manifest.Planned p, List<String> stores) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ATTEMPT)) {
            ps.setString(1, p.id());
            ps.setString(2, p.source());
            ps.setString(3, p.kind());
            ps.setString(4, p.dataKey());
            ps.setArray(5, c.createArrayOf("text", stores.toArray()));
            ps.setTimestamp(6, Timestamp.from(p.startedAt()));
            ps.executeUpdate();
        }
    }

    /** Attempts started before {@code before} that never finished (their backup has no manifest). */
    public List<Attempt> unfinishedBefore(java.time.Instant before) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ATTEMPTS_BEFORE)) {
            ps.setTimestamp(1, Timestamp.from(before));
            List<Attempt> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Attempt(rs.getString(1), rs.getString(2), List.of((String[]) rs.getArray(3).getArray())));
            }
            return out;
        }
    }

    public void forgetAttempt(String id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ATTEMPT_DONE)) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }

    /** The ids of the newest drill-proven backup of each source. */
    public java.util.Set<String> proven() throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(PROVEN); ResultSet rs = ps.executeQuery()) {
            java.util.Set<String> out = new java.util.HashSet<>();
            while (rs.next()) out.add(rs.getString(1));
            return out;
        }
    }

    /** The manifests in a store: the trusted ones (newest first) and why the others were refused. */
    public record Found(List<Manifest> trusted, List<String> refused) {}

    /**
     * Reads every manifest under {@link Manifest#ROOT} in {@code store}; works without Bunker's database. Only
     * manifests {@code trust} believes are returned: a manifest anyone else wrote is refused, with the reason.
     */
    public static Found manifestsIn(Store store, ManifestTrust trust) throws IOException {
        List<Manifest> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        String after = null;
        do {
            ListPage page = store.list(Manifest.ROOT, after, 1000);
            for (ObjectInfo o : page.objects()) {
                if (!o.key().endsWith(Manifest.SUFFIX)) continue;
                byte[] bytes;
                try (InputStream in = store.get(o.key())) {
                    bytes = in.readAllBytes();
                }
                Manifest m;
                try {
                    m = Manifest.parse(bytes);
                } catch (IOException e) {
                    refused.add(store.name() + ":" + o.key() + ": not a manifest (" + e.getMessage() + ")");
                    continue;
                }
                String problem = trust.problem(m, o.key(), bytes, signatureOf(store, m));
                if (problem == null) out.add(m);
                else refused.add(store.name() + ":" + o.key() + ": " + problem);
            }
            after = page.nextStartAfter();
        } while (after != null);
        out.sort((a, b) -> b.finishedAt().compareTo(a.finishedAt()));
        return new Found(out, refused);
    }

    private static byte[] signatureOf(Store store, Manifest m) throws IOException {
        if (m.layoutProblem() != null) return null;
        try (InputStream in = store.get(m.signatureKey())) {
            return in.readNBytes(4096);
        } catch (dev.bunker.store.ObjectNotFoundException e) {
            return null;
        }
    }

    /** Adds every trusted manifest found in {@code store} to the catalog. */
    public Found rebuildFrom(Store store, ManifestTrust trust) throws IOException, SQLException {
        Found found = manifestsIn(store, trust);
        for (Manifest m : found.trusted()) add(m, List.of(store.name()));
        return found;
    }
}
