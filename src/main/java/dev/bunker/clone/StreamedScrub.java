package dev.bunker.clone;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.TakeBackup;
import dev.bunker.clone.ColumnName.TableName;
import dev.bunker.clone.ScrubPlan.Planned;
import dev.bunker.clone.ScrubRule.Kind;
import dev.bunker.tools.ToolProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Scrubs the planned tables while their rows load: each table's data is read from the dump ({@code pg_restore -f -}),
 * its planned columns rewritten in Java and the rows sent to the private database with COPY, so an original value of a
 * scrubbed column never reaches the target's server at all, and each row is written once (no UPDATE, no second rewrite).
 * Tables with a fake or shuffled column are spooled first and loaded once every such table was read (the fake pools leave
 * out every original, a shuffle deals the column's own values). The digests of the originals are kept as they pass, and a
 * sample read back from the clone is compared with them ({@link StreamedCheck}).
 */
final class StreamedScrub {
    /** Values the shuffles of one clone hold in memory (as printed); a clone with more is scrubbed in the database. */
    static final long SHUFFLE_LIMIT = 4_000_000;

    private final ScrubPlan plan;
    private final byte[] key;
    private final DataEntries entries;
    private final Path pgRestore;
    private final Path dump;
    private final Path folder;
    private final Conninfo priv;
    private final SecureRandom random;
    private final List<ToolProcess> running = new CopyOnWriteArrayList<>();

    StreamedScrub(ScrubPlan plan, byte[] key, DataEntries entries, Path pgRestore, Path dump, Path folder, Conninfo priv,
                  SecureRandom random) {
        this.plan = plan;
        this.key = key;
        this.entries = entries;
        this.pgRestore = pgRestore;
        this.dump = dump;
        this.folder = folder;
        this.priv = priv;
        this.random = random;
    }

    /** Whether the shuffled tables' values fit in memory (their rows as the manifest counted them; unknown: no). */
    static boolean shufflesFit(ScrubPlan plan, Map<TableName, Long> rows) {
        long total = 0;
        for (Map.Entry<TableName, List<Planned>> e : plan.byTable().entrySet()) {
            long shuffles = e.getValue().stream().filter(p -> p.rule().kind() == Kind.SHUFFLE).count();
            if (shuffles == 0) continue;
            Long n = rows.get(e.getKey());
            if (n == null) return false;
            total += n * shuffles;
        }
        return total <= SHUFFLE_LIMIT;
    }

    /**
     * Loads the planned tables scrubbed, beside {@code rest} (pg_restore of every other table's data, on a thread of its
     * own); returns what was done to each planned column, in the plan's order. The dump (written through a pipe, so without
     * offsets: pg_restore reads through all of it to find an entry) is read once, by one pg_restore run for every planned
     * table. A table goes straight into COPY as its rows pass, unless it has a fake or shuffled column: those are spooled
     * to the run's private folder (their pools' and shuffles' values noted on the way) and loaded, on the thread beside the
     * other tables' pg_restore, once every such table was read, since a pool leaves out every original and a shuffle deals the column's own values.
     */
    List<ScrubDatabase.ColumnResult> run(Callable<ToolProcess> rest, Consumer<String> said) throws IOException, SQLException {
        Consumer<String> phases = line -> {
            synchronized (said) { // the loaders report from their threads
                said.accept(line);
            }
        };
        Map<TableName, List<Planned>> byTable = plan.byTable();
        Set<TableName> twice = new HashSet<>();
        byTable.forEach((t, cols) -> {
            if (cols.stream().anyMatch(p -> pooled(p) || shuffle(p))) twice.add(t);
        });
        phases.accept("restoring the data: " + byTable.size() + " table(s) scrubbed as they load (COPY), the rest with pg_restore");
        Map<TableName, TableOutcome> done = new ConcurrentHashMap<>();
        Map<Kind, Map<Long, String>> candidates = new EnumMap<>(Kind.class);
        ScrubValues v = new ScrubValues(key, Map.of());
        for (Planned p : plan.columns()) {
            if (!pooled(p) || candidates.containsKey(p.rule().kind())) continue;
            Map<Long, String> byDigest = new HashMap<>();
            for (String value : FakePool.of(p.rule().kind())) byDigest.put(v.digest(value), value);
            candidates.put(p.rule().kind(), byDigest);
        }
        Set<Long> originalsInPools = new HashSet<>();
        Map<ColumnName, List<String>> shuffled = new HashMap<>();
        Map<TableName, Spool> waiting = new HashMap<>();
        long t0 = System.nanoTime();
        ExecutorService loaders = Executors.newFixedThreadPool(2, r -> {
            Thread th = new Thread(r, "clone-load");
            th.setDaemon(true); // a failed run ends without waiting for them; their sessions end with the private database
            return th;
        });
        List<Future<Void>> loads = new ArrayList<>();
        try {
            Future<Void> restored = loaders.submit(() -> { // the other tables' pg_restore, ended with the others on a failure
                ToolProcess p = rest.call();
                running.add(p);
                try {
                    p.stdout().transferTo(java.io.OutputStream.nullOutputStream());
                    p.awaitSuccess();
                } finally {
                    running.remove(p);
                }
                return null;
            });
            scan(byTable.keySet(), (header, rows) -> {
                TableName t = header.table();
                List<Planned> columns = byTable.get(t);
                boolean[] padded = new boolean[columns.size()];
                for (int i = 0; i < padded.length; i++) padded[i] = ScrubValues.Column.of(columns.get(i)).padded();
                int[] index = index(header, columns);
                int n = header.columns().size();
                if (!twice.contains(t)) { // straight into COPY: each row is decoded and encoded once (the machine's cores are the limit)
                    done.put(t, load(header, rows, Map.of(), Map.of(), phases));
                    return;
                }
                waiting.put(t, Spool.write(folder.resolve("spool-" + waiting.size()), header, rows, line -> {
                    String[] fields = CopyText.fields(line, n);
                    for (int i = 0; i < columns.size(); i++) {
                        Planned p = columns.get(i);
                        String field = fields[index[i]];
                        if (field.equals(CopyText.NULL)) continue;
                        if (shuffle(p)) {
                            shuffled.computeIfAbsent(p.column().name(), k -> new ArrayList<>()).add(field); // moved as printed
                        } else if (pooled(p)) {
                            String original = CopyText.decode(field);
                            long d = v.digest(padded[i] ? ScrubValues.unpadded(original) : original); // pool values have no padding
                            if (candidates.get(p.rule().kind()).containsKey(d)) originalsInPools.add(d);
                        }
                    }
                }));
            });
            phases.accept(String.format("  the dump's data of %d table(s) read in %.1f s", byTable.size(), (System.nanoTime() - t0) / 1e9));
            if (!waiting.isEmpty()) {
                Map<Kind, List<String>> pools = new EnumMap<>(Kind.class);
                for (Map.Entry<Kind, Map<Long, String>> e : candidates.entrySet()) {
                    List<String> pool = new ArrayList<>();
                    for (String value : FakePool.of(e.getKey())) {
                        if (!originalsInPools.contains(v.digest(value))) pool.add(value);
                    }
                    if (pool.isEmpty()) throw new CloneException("every " + e.getKey().word() + " value Bunker has is among the originals", false);
                    pools.put(e.getKey(), pool);
                }
                Random shuffler = new Random(random.nextLong());
                for (List<String> values : shuffled.values()) Collections.shuffle(values, shuffler);
                for (Spool sp : waiting.values()) loads.add(loaders.submit(() -> loadSpooled(sp, pools, shuffled, done, phases)));
            }
            loads.add(restored);
            for (Future<Void> f : loads) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("the clone's data load was interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException sql) throw sql;
            if (e.getCause() instanceof IOException io) throw io; // a CloneException keeps its reason (and exit code)
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } finally {
            loaders.shutdownNow(); // a load still running ends with its session when the private database is dropped
            for (ToolProcess p : running) p.destroy();
        }
        phases.accept(String.format("  the data loaded in %.1f s", (System.nanoTime() - t0) / 1e9));
        for (TableName t : byTable.keySet()) {
            if (!done.containsKey(t)) throw new IOException("the dump's data of " + t + " was not found where its list of contents says");
        }
        phases.accept("verifying a sample of every scrubbed column, read back from the clone");
        t0 = System.nanoTime();
        try (Connection c = TakeBackup.connect(priv, "the private clone database", "check --target"); Statement s = c.createStatement()) {
            for (TableName t : byTable.keySet()) { // exactly the rows streamed, none loaded by another way
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t.sql())) {
                    rs.next();
                    if (rs.getLong(1) != done.get(t).rows) {
                        throw new CloneException(t + " holds " + rs.getLong(1) + " rows after the load, not the " + done.get(t).rows + " scrubbed", false);
                    }
                }
                List<StreamedCheck> checks = byTable.get(t).stream().map(p -> done.get(t).checks.get(p.column().name()))
                        .filter(k -> k.planned().rule().replaces()).toList();
                if (!checks.isEmpty()) StreamedCheck.readBack(c, t, done.get(t).rows, checks, v);
            }
        }
        phases.accept(String.format("  counted and sampled in %.1f s", (System.nanoTime() - t0) / 1e9));
        List<ScrubDatabase.ColumnResult> out = new ArrayList<>();
        for (Planned p : plan.columns()) out.add(done.get(p.column().name().tableName()).checks.get(p.column().name()).result());
        return out;
    }

    /** Loads a spooled table and removes its spool (unscrubbed rows) as soon as it is in. */
    private Void loadSpooled(Spool sp, Map<Kind, List<String>> pools, Map<ColumnName, List<String>> shuffled, Map<TableName, TableOutcome> done,
                             Consumer<String> phases) throws IOException, SQLException {
        try (Spool.Reader r = sp.read()) {
            done.put(sp.header().table(), load(sp.header(), r, pools, shuffled, phases));
        } finally {
            java.nio.file.Files.deleteIfExists(sp.file());
        }
        return null;
    }

    private static boolean pooled(Planned p) { return p.rule().kind().pooled(); }

    private static boolean shuffle(Planned p) { return p.rule().kind() == Kind.SHUFFLE; }

    /** Where each planned column is among a header's fields. */
    private static int[] index(CopyText.Header header, List<Planned> columns) throws IOException {
        int[] index = new int[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            index[i] = header.columns().indexOf(columns.get(i).column().name().column());
            if (index[i] < 0) throw new IOException("the dump's data of " + header.table() + " has no column " + columns.get(i).column().name().column());
        }
        return index;
    }

    /** What one table's load did: its rows and each planned column's check. */
    private record TableOutcome(long rows, Map<ColumnName, StreamedCheck> checks) {}

    /** Streams {@code rows} of {@code table}, scrubbed, into the private database with COPY. */
    private TableOutcome load(CopyText.Header header, CopyText.Rows rows, Map<Kind, List<String>> pools, Map<ColumnName, List<String>> shuffled,
                              Consumer<String> phases) throws IOException, SQLException {
        long t0 = System.nanoTime();
        TableName table = header.table();
        List<Planned> columns = plan.byTable().get(table);
        ScrubValues values = new ScrubValues(key, pools);
        Map<ColumnName, StreamedCheck> checks = new HashMap<>();
        int m = columns.size();
        ScrubValues.Column[] rule = new ScrubValues.Column[m]; // per column, looked up once and not per value
        StreamedCheck[] check = new StreamedCheck[m];
        List<?>[] deal = new List<?>[m];
        for (int i = 0; i < m; i++) {
            Planned p = columns.get(i);
            rule[i] = ScrubValues.Column.of(p);
            check[i] = new StreamedCheck(rule[i]);
            checks.put(p.column().name(), check[i]);
            deal[i] = shuffle(p) ? shuffled.get(p.column().name()) : null;
        }
        int[] index = index(header, columns);
        int n = header.columns().size();
        int[] dealt = new int[m];
        long count = 0;
        try (Connection c = TakeBackup.connect(priv, "the private clone database", "check --target")) {
            try (Statement s = c.createStatement()) {
                s.execute("SET synchronous_commit = off"); // a crash drops the private database anyway
            }
            List<String> quoted = header.columns().stream().map(ColumnName::quote).toList();
            CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + table.sql() + " (" + String.join(", ", quoted) + ") FROM STDIN");
            StringBuilder buffer = new StringBuilder(1 << 18);
            try {
                int[] ends = new int[n];
                String[] replaced = new String[n]; // the rewritten fields of this row, by position; null: as printed
                for (String line = rows.next(); line != null; line = rows.next()) {
                    CopyText.ends(line, ends);
                    for (int i = 0; i < m; i++) {
                        int at = index[i];
                        String field = line.substring(at == 0 ? 0 : ends[at - 1] + 1, ends[at]);
                        if (deal[i] != null) { // a shuffle
                            if (field.equals(CopyText.NULL)) continue;
                            replaced[at] = (String) deal[i].get(dealt[i]++);
                            check[i].original(values, field); // counted, not compared
                            continue;
                        }
                        String original = CopyText.decode(field);
                        check[i].original(values, original);
                        replaced[at] = CopyText.encode(values.apply(rule[i], original));
                    }
                    for (int j = 0; j < n; j++) {
                        if (j > 0) buffer.append('\t');
                        if (replaced[j] == null) {
                            buffer.append(line, j == 0 ? 0 : ends[j - 1] + 1, ends[j]);
                        } else {
                            buffer.append(replaced[j]);
                            replaced[j] = null;
                        }
                    }
                    buffer.append('\n');
                    count++;
                    if (buffer.length() >= 1 << 18) flush(copy, buffer);
                }
                flush(copy, buffer);
                long copied = copy.endCopy();
                if (copied != count) throw new CloneException("COPY into " + table + " took " + copied + " rows of the " + count + " sent", false);
            } finally {
                if (copy.isActive()) copy.cancelCopy();
            }
        }
        phases.accept(String.format("  %s: %d rows, %d column(s) scrubbed as they loaded in %.1f s", table, count, columns.size(),
                (System.nanoTime() - t0) / 1e9));
        return new TableOutcome(count, checks);
    }

    private static void flush(CopyIn copy, StringBuilder buffer) throws SQLException {
        byte[] b = buffer.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(b, 0, b.length);
        buffer.setLength(0);
    }

    /** One table's COPY block as the scan meets it. */
    @FunctionalInterface
    private interface Block {
        void accept(CopyText.Header header, CopyText.Rows rows) throws IOException, SQLException;
    }

    /** Reads {@code tables}' data from the dump, in one pg_restore run, and hands each block to {@code block} in turn. */
    private void scan(Set<TableName> tables, Block block) throws IOException, SQLException {
        StringBuilder wanted = new StringBuilder();
        entries.scrubbed().forEach((t, line) -> {
            if (tables.contains(t)) wanted.append(line).append('\n'); // in the dump's order
        });
        Path list = DataEntries.listFile(folder, "scrubbed.list", wanted.toString());
        ToolProcess p = ToolProcess.start("pg_restore", List.of(pgRestore.toString(), "--data-only", "-L", list.toString(), "-f", "-", dump.toString()),
                Map.of());
        running.add(p);
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(p.stdout(), StandardCharsets.UTF_8), 1 << 16);
            Set<TableName> seen = new HashSet<>();
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith("COPY ")) continue;
                CopyText.Header header = CopyText.header(line);
                if (header == null || !tables.contains(header.table()) || !seen.add(header.table())) {
                    throw new IOException("the dump's data holds a block Bunker did not ask for (" + line + "); nothing of it was loaded");
                }
                CopyText.Rows rows = CopyText.rows(in, header.table());
                block.accept(header, rows);
                if (rows.next() != null) throw new IllegalStateException("a block was not read to its end");
            }
            p.awaitSuccess();
        } finally {
            p.destroy();
            running.remove(p);
        }
    }
}
