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

    /**
     * Bunker's slots on {@code source}'s server; one counts as in use when any of {@code configured} streams through it (a
     * slot belongs to the whole cluster, which other sources may name too).
     */
    public static List<Slot> list(BackupSource source, java.util.Collection<BackupSource> configured) throws SQLException {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (BackupSource s : configured) if (s.pitr() != null && s.pitr().streamed()) used.add(s.pitr().slot());
        List<Slot> out = new ArrayList<>();
        try (Connection db = connect(source); PreparedStatement ps = db.prepareStatement(LIST); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(1);
                out.add(new Slot(source.name(), name, rs.getBoolean(2), rs.getString(3), (Long) rs.getObject(4), used.contains(name)));
            }
        }
        return out;
    }

    /**
     * Every configured PostgreSQL source's server's slots, each server once (sources that are databases of one cluster
     * share its slots), {@code only} alone when given.
     */
    public static List<Slot> listAll(java.util.Collection<BackupSource> configured, String only) throws SQLException {
        java.util.Set<String> servers = new java.util.HashSet<>();
        List<Slot> out = new ArrayList<>();
        for (BackupSource s : configured) {
            if (only != null && !s.name().equals(only)) continue;
            if (s.url().equals("self") || dev.bunker.mariadb.MariaDbUrl.matches(s.url())) continue; // no replication slots there
            Conninfo c = Conninfo.parse(s.url(), s.user(), s.password());
            if (servers.add(c.host() + ":" + c.port())) out.addAll(list(s, configured));
        }
        return out;
    }

    /**
     * Drops a slot Bunker no longer uses on {@code source}'s server; refuses one that any of {@code configured} streams
     * through, one in use and one not Bunker's.
     */
    public static void drop(BackupSource source, String slot, java.util.Collection<BackupSource> configured) throws SQLException {
        for (BackupSource s : configured) {
            if (s.pitr() != null && s.pitr().streamed() && slot.equals(s.pitr().slot())) {
                throw new IllegalArgumentException("slot " + slot + " is the one backups.sources." + s.name() + ".pitr streams through; "
                        + "remove pitr from that source (and restart serve) before dropping it");
            }
        }
        Slot found = list(source, configured).stream().filter(s -> s.name().equals(slot)).findFirst().orElseThrow(() -> new IllegalArgumentException(
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
