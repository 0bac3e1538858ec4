package dev.bunker.pitr;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.TakeBackup;
import dev.bunker.config.BunkerConfig.BackupSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Bunker's replication slots on a source's server: the one its config streams through and any left behind (pitr removed
 * or the slot renamed), which keep WAL on the source's disk for no one until dropped.
 */
public final class WalSlots {
    static final String LIST = """
            select slot_name, active, restart_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
              from pg_replication_slots where slot_type = 'physical' and slot_name like 'bunker\\_%' order by slot_name
            """;

    /** A slot: whether a client streams through it now, how much WAL it keeps, and whether the config uses it. */
    public record Slot(String source, String name, boolean active, String restartLsn, Long retainedBytes, boolean inUse) {}

    private WalSlots() {}

    public static List<Slot> list(BackupSource source) throws SQLException {
        List<Slot> out = new ArrayList<>();
        try (Connection db = connect(source); PreparedStatement ps = db.prepareStatement(LIST); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(1);
                out.add(new Slot(source.name(), name, rs.getBoolean(2), rs.getString(3), (Long) rs.getObject(4),
                        source.pitr() != null && name.equals(source.pitr().slot())));
            }
        }
        return out;
    }

    /** Drops a slot Bunker no longer uses; refuses the one the config streams through, one in use and one not Bunker's. */
    public static void drop(BackupSource source, String slot) throws SQLException {
        if (source.pitr() != null && slot.equals(source.pitr().slot())) {
            throw new IllegalArgumentException("slot " + slot + " is the one backups.sources." + source.name() + ".pitr streams through; "
                    + "remove pitr from that source (and restart serve) before dropping it");
        }
        Slot found = list(source).stream().filter(s -> s.name().equals(slot)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "source " + source.name() + " has no Bunker replication slot named " + slot + "; `bunker db slots` lists them"));
        if (found.active()) throw new IllegalArgumentException("slot " + slot + " is in use by a running client; stop it first");
        try (Connection db = connect(source); PreparedStatement ps = db.prepareStatement("select pg_drop_replication_slot(?)")) {
            ps.setString(1, slot);
            ps.execute();
        }
    }

    private static Connection connect(BackupSource source) throws SQLException {
        return TakeBackup.connectToSource(Conninfo.parse(source.url(), source.user(), source.password()), source.name());
    }
}
