package dev.bunker.clone;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.TakeBackup;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The scrub done inside the private database once pg_restore has loaded every row (the way for tables a streamed scrub
 * cannot take: partitioned, too many values to shuffle in memory, a dump not in UTF-8): the scrubbed tables are made
 * unlogged for the load, rewritten with one UPDATE each, verified, and made logged again.
 */
final class InDatabaseScrub {
    private InDatabaseScrub() {}

    /**
     * Scrubs the plan's tables on two sessions at once (the server's two cores: one big table need not wait for another),
     * grouped by {@link ScrubPlan#split}, the largest tables (by size on disk) spread first; each session makes its
     * {@code unlogged} tables logged again once they are scrubbed.
     */
    static List<ScrubDatabase.ColumnResult> scrubInParallel(Connection c, Conninfo priv, ScrubPlan plan, byte[] key,
                                                                    List<ColumnName.TableName> unlogged, Consumer<String> phases)
            throws SQLException, IOException {
        Map<ColumnName.TableName, Long> sizes = new java.util.HashMap<>();
        try (PreparedStatement p = c.prepareStatement("select coalesce(pg_total_relation_size(to_regclass(?)), 0)")) {
            for (ColumnName.TableName t : plan.byTable().keySet()) {
                p.setString(1, t.sql());
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    sizes.put(t, rs.getLong(1));
                }
            }
        }
        List<ScrubPlan> parts = plan.split(2, sizes::get);
        Consumer<String> said = line -> {
            synchronized (phases) {
                phases.accept(line);
            }
        };
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(parts.size());
        try {
            List<java.util.concurrent.Future<List<ScrubDatabase.ColumnResult>>> running = new ArrayList<>();
            for (ScrubPlan part : parts) {
                running.add(pool.submit(() -> {
                    try (Connection own = TakeBackup.connect(priv, "the private clone database", "check --target");
                         Statement s = own.createStatement()) {
                        List<ScrubDatabase.ColumnResult> done = new ScrubDatabase(part, key).run(own, said);
                        for (ColumnName.TableName u : part.byTable().keySet()) {
                            if (!unlogged.contains(u)) continue;
                            long t0 = System.nanoTime();
                            s.execute("ALTER TABLE " + u.sql() + " SET LOGGED");
                            said.accept(String.format("  %s: logged again in %.1f s", u, (System.nanoTime() - t0) / 1e9));
                        }
                        return done;
                    }
                }));
            }
            List<ScrubDatabase.ColumnResult> out = new ArrayList<>();
            for (var f : running) out.addAll(f.get());
            out.sort(java.util.Comparator.comparing(r -> r.column()));
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("the scrub was interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof SQLException sql) throw sql;
            if (e.getCause() instanceof IOException io) throw io; // a CloneException keeps its reason (and exit code)
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow(); // the other session, if still running, is ended by the drop of the private database
        }
    }

    /** Makes the plain (logged, non-partitioned) tables among {@code tables} unlogged; returns those it changed. */
    static List<ColumnName.TableName> setUnlogged(Connection c, java.util.Collection<ColumnName.TableName> tables) throws SQLException {
        List<ColumnName.TableName> changed = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("select relpersistence = 'p' and relkind = 'r' from pg_class where oid = to_regclass(?)");
             Statement s = c.createStatement()) {
            for (ColumnName.TableName t : tables) {
                p.setString(1, t.sql());
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) continue;
                }
                s.execute("ALTER TABLE " + t.sql() + " SET UNLOGGED");
                changed.add(t);
            }
        }
        return changed;
    }
}
