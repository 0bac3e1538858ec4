package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dump's table of contents ({@code pg_restore -l}) split for a streamed scrub: the {@code TABLE DATA} entry of each
 * table to scrub, restored through Bunker, and a list of everything else for {@code pg_restore -L}. Built only when the
 * split is certain: every table to scrub is a plain table (no partitions or children, whose rows have entries of their own)
 * with exactly one entry, no entry could belong to two of them, and the dump's text is UTF-8.
 */
record DataEntries(Map<TableName, String> scrubbed, String rest) {
    private static final String DATA = " TABLE DATA ";

    /** The split, or null (with the reason in {@code why}) when the tables must be scrubbed in the database instead. */
    static DataEntries split(String toc, String preData, Collection<TableName> tables, Connection restored, List<String> why) throws SQLException {
        if (!preData.lines().anyMatch(l -> l.equals("SET client_encoding = 'UTF8';"))) {
            why.add("the dump's text is not UTF-8");
            return null;
        }
        try (PreparedStatement p = restored.prepareStatement("select c.relkind = 'r' and not exists (select 1 from pg_inherits i where i.inhparent = c.oid) "
                + "from pg_class c where c.oid = to_regclass(?)")) {
            for (TableName t : tables) {
                p.setString(1, t.sql());
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        why.add(t + " is partitioned or has child tables");
                        return null;
                    }
                }
            }
        }
        Map<TableName, String> scrubbed = new LinkedHashMap<>();
        StringBuilder rest = new StringBuilder();
        for (String line : toc.lines().toList()) {
            int at = line.indexOf(DATA);
            List<TableName> owners = new ArrayList<>();
            if (!line.startsWith(";") && at > 0) {
                String names = line.substring(at + DATA.length()); // "schema table owner", unquoted: a name may hold spaces
                for (TableName t : tables) if (names.startsWith(t.schema() + " " + t.table() + " ")) owners.add(t);
            }
            if (owners.size() > 1 || owners.size() == 1 && scrubbed.containsKey(owners.get(0))) {
                why.add("the dump's list of contents names " + owners + " ambiguously");
                return null;
            }
            if (owners.isEmpty()) {
                rest.append(line).append('\n');
            } else {
                scrubbed.put(owners.get(0), line);
                rest.append(';').append(line).append('\n'); // left out of pg_restore's run
            }
        }
        for (TableName t : tables) {
            if (!scrubbed.containsKey(t)) {
                why.add(t + " has no data entry of its own in the dump");
                return null;
            }
        }
        return new DataEntries(scrubbed, rest.toString());
    }

    /** A list file for {@code pg_restore -L} holding {@code text}, private to this run's folder. */
    static Path listFile(Path folder, String name, String text) throws IOException {
        Path f = folder.resolve(name);
        Files.writeString(f, text);
        return f;
    }
}
