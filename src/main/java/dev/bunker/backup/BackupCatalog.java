package dev.bunker.backup;

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

    private final DataSource db;

    public BackupCatalog(DataSource db) {
        this.db = db;
    }

    public void add(Manifest m, List<String> stores) throws SQLException, IOException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(UPSERT)) {
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
            ps.setString(11, new String(m.toJson(), java.nio.charset.StandardCharsets.UTF_8));
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

    public void remove(String id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(REMOVE)) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }

    /** Reads every manifest under backups/ in {@code store} (newest first); works without Bunker's database. */
    public static List<Manifest> manifestsIn(Store store) throws IOException {
        List<Manifest> out = new ArrayList<>();
        String after = null;
        do {
            ListPage page = store.list("backups/", after, 1000);
            for (ObjectInfo o : page.objects()) {
                if (!o.key().endsWith(Manifest.SUFFIX)) continue;
                try (InputStream in = store.get(o.key())) {
                    out.add(Manifest.parse(in.readAllBytes()));
                }
            }
            after = page.nextStartAfter();
        } while (after != null);
        out.sort((a, b) -> b.finishedAt().compareTo(a.finishedAt()));
        return out;
    }

    /** Adds every manifest found in {@code store} to the catalog; returns how many. */
    public int rebuildFrom(Store store) throws IOException, SQLException {
        List<Manifest> found = manifestsIn(store);
        for (Manifest m : found) add(m, List.of(store.name()));
        return found.size();
    }
}
