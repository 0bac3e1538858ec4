package dev.bunker.scrub;

import dev.bunker.scrub.ScrubPlan.ColumnType;
import dev.bunker.scrub.ScrubRules.Column;
import dev.bunker.scrub.ScrubRules.Kind;
import dev.bunker.scrub.ScrubRules.Rule;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import net.datafaker.Faker;

/**
 * Rewrites the planned columns of a freshly restored database, in SQL, before its indexes and constraints exist
 * (one UPDATE per table), then proves it: for a sample of every scrubbed column, no value may be one of that column's
 * original values (compared by SHA-256 with hashes taken before the rewrite). Records what it did in
 * {@code bunker_scrub.columns}, without any original value or the key.
 */
public final class Scrubber {
    /** What was done to one column. */
    public record Done(Column column, Rule rule, long rowsChanged, long sampled, long survivors) {}

    static final int POOL = 4096;
    static final int FULL_CHECK_ROWS = 100_000;
    static final int SAMPLE_ROWS = 20_000;

    private final Connection c;
    private final Consumer<String> progress;

    Scrubber(Connection c, Consumer<String> progress) {
        this.c = c;
        this.progress = progress;
    }

    List<Done> run(ScrubPlan plan, byte[] givenKey, String backupId, Instant now) throws SQLException {
        byte[] key = givenKey != null ? givenKey : new SecureRandom().generateSeed(32);
        prepare(key);
        List<Done> done = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, Map<Column, Rule>> table : plan.byTable().entrySet()) {
            Map<Column, Rule> cols = table.getValue();
            Column any = cols.keySet().iterator().next();
            String t = quote(any.schema()) + "." + quote(any.table());
            List<String> origins = new ArrayList<>();
            for (Map.Entry<Column, Rule> e : cols.entrySet()) {
                Column col = e.getKey();
                Kind kind = e.getValue().kind();
                if (kind == Kind.CONSTANT && e.getValue().constant() != null) { // every value becomes the constant: is it an original one?
                    long same = count("select count(*) from " + t + " where " + quote(col.name()) + " = " + expression(col, e.getValue(), plan.types().get(col)));
                    if (same > 0) throw new ScrubException(col + ": the constant is the original value of " + same + " row(s); choose another");
                }
                if (kind == Kind.NULL || kind == Kind.SHUFFLE || kind == Kind.CONSTANT) {
                    origins.add(null); // nothing to compare by hash (see verify)
                    continue;
                }
                String o = "pg_temp.bunker_orig_" + (n++);
                origins.add(o);
                execute("create temp table " + o + " as select distinct sha256(convert_to(" + quote(col.name()) + "::text, 'UTF8')) as h from " + t
                        + " where " + quote(col.name()) + " is not null");
                execute("analyze " + o);
            }
            long changed = 0;
            List<String> sets = new ArrayList<>();
            for (Map.Entry<Column, Rule> e : cols.entrySet()) {
                if (e.getValue().kind() == Kind.SHUFFLE) changed = Math.max(changed, shuffle(t, quote(e.getKey().name())));
                else sets.add(quote(e.getKey().name()) + " = " + expression(e.getKey(), e.getValue(), plan.types().get(e.getKey())));
            }
            if (!sets.isEmpty()) {
                progress.accept("scrubbing " + t + ": " + cols.keySet().stream().map(Column::name).toList());
                try (Statement s = c.createStatement()) {
                    changed = s.executeUpdate("update " + t + " set " + String.join(", ", sets));
                }
            }
            execute("analyze " + t); // a fresh load has no statistics: the sample size below needs the row count
            int i = 0;
            for (Map.Entry<Column, Rule> e : cols.entrySet()) {
                long[] check = verify(t, e.getKey(), e.getValue(), origins.get(i++));
                if (check[1] > 0) {
                    throw new ScrubException(e.getKey() + " (" + e.getValue() + "): " + check[1] + " of " + check[0]
                            + " sampled values are still one of the column's original values; nothing was made visible");
                }
                done.add(new Done(e.getKey(), e.getValue(), changed, check[0], check[1]));
            }
        }
        execute("drop function pg_temp.bunker_hmac(text)");
        record(done, backupId, now);
        return done;
    }

    /** The keyed hash (HMAC-SHA256 from the built-in sha256, key inlined in a function of this session only) and the fake-value pools. */
    private void prepare(byte[] key) throws SQLException {
        byte[] k = key.length > 64 ? dev.bunker.store.Sha256.newDigest().digest(key) : key;
        byte[] ipad = new byte[64];
        byte[] opad = new byte[64];
        for (int i = 0; i < 64; i++) {
            byte b = i < k.length ? k[i] : 0;
            ipad[i] = (byte) (b ^ 0x36);
            opad[i] = (byte) (b ^ 0x5c);
        }
        HexFormat hex = HexFormat.of();
        execute("create function pg_temp.bunker_hmac(v text) returns bytea language sql immutable as $f$ select sha256('\\x" + hex.formatHex(opad)
                + "'::bytea || sha256('\\x" + hex.formatHex(ipad) + "'::bytea || convert_to(v, 'UTF8'))) $f$");
        execute("create temp table bunker_pool (kind text, i int, v text, primary key (kind, i))");
        Faker faker = new Faker(Locale.ENGLISH, new Random(new SecureRandom().nextLong()));
        try (PreparedStatement ps = c.prepareStatement("insert into pg_temp.bunker_pool values (?, ?, ?)")) {
            for (int i = 0; i < POOL; i++) {
                add(ps, "name", i, faker.name().fullName());
                add(ps, "phone", i, faker.phoneNumber().cellPhone());
                String local = (faker.name().firstName() + "." + faker.name().lastName()).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "");
                add(ps, "email", i, local.isEmpty() ? "user" : local);
            }
            ps.executeBatch();
        }
        execute("create function pg_temp.bunker_email(h text) returns text language sql stable as $f$ select v || '.' || substr(h, 1, 12) || '@example.com'"
                + " from pg_temp.bunker_pool where kind = 'email' and i = ('x' || substr(h, 17, 7))::bit(28)::int % " + POOL + " $f$");
        // A pool value equal to the original is never chosen: the next one is.
        execute("create function pg_temp.bunker_pick(k text, orig text, h text) returns text language sql stable as $f$"
                + " select case when a.v = orig then b.v else a.v end from pg_temp.bunker_pool a join pg_temp.bunker_pool b on b.kind = a.kind"
                + " where a.kind = k and a.i = ('x' || substr(h, 17, 7))::bit(28)::int % " + POOL + " and b.i = (a.i + 1) % " + POOL + " $f$");
    }

    private static void add(PreparedStatement ps, String kind, int i, String v) throws SQLException {
        ps.setString(1, kind);
        ps.setInt(2, i);
        ps.setString(3, v);
        ps.addBatch();
    }

    static String expression(Column col, Rule r, ColumnType type) {
        String q = quote(col.name());
        String h = "encode(pg_temp.bunker_hmac(" + q + "::text), 'hex')";
        Integer max = type.maxLength();
        String e = switch (r.kind()) {
            case NULL -> "null";
            case CONSTANT -> r.constant() == null ? "null" : "cast(" + literal(r.constant()) + " as " + type.sqlType() + ")";
            case HASH -> switch (type.dataType()) {
                case "uuid" -> "substr(" + h + ", 1, 32)::uuid";
                case "bigint" -> "('x' || substr(" + h + ", 1, 15))::bit(60)::bigint";
                default -> max == null ? h : "left(" + h + ", " + max + ")";
            };
            case FAKE_NAME -> fit("pg_temp.bunker_pick('name', " + q + "::text, " + h + ")", max);
            case FAKE_PHONE -> fit("pg_temp.bunker_pick('phone', " + q + "::text, " + h + ")", max);
            case FAKE_EMAIL -> fit("pg_temp.bunker_email(" + h + ")", max);
            case SHUFFLE, KEEP -> throw new IllegalArgumentException(r + " is not an expression");
        };
        return r.kind() == Kind.NULL ? e : "case when " + q + " is null then null else " + e + " end"; // NULL stays NULL
    }

    private static String fit(String e, Integer max) {
        return max == null ? e : "left(" + e + ", " + max + ")";
    }

    /** Moves the column's values between rows at random, in one statement; returns the rows changed. */
    private long shuffle(String table, String q) throws SQLException {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate("with src as (select ctid as id, row_number() over (order by random()) as rn from " + table + " where " + q + " is not null),"
                    + " vals as (select " + q + " as v, row_number() over (order by random()) as rn from " + table + " where " + q + " is not null)"
                    + " update " + table + " t set " + q + " = vals.v from src join vals using (rn) where t.ctid = src.id");
        }
    }

    /** {sampled, survivors}: a sample (every row of smaller tables) compared with the original values' hashes. */
    private long[] verify(String table, Column col, Rule r, String origins) throws SQLException {
        String q = quote(col.name());
        long rows;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select greatest(reltuples, 0)::bigint from pg_class where oid = '" + table.replace("'", "''") + "'::regclass")) {
            rs.next();
            rows = rs.getLong(1);
        }
        String from = rows > FULL_CHECK_ROWS ? table + " tablesample system (" + Math.max(0.01, 100.0 * SAMPLE_ROWS / rows) + ")" : table;
        String survives = switch (r.kind()) {
            case NULL -> "true"; // any value left is one too many
            case SHUFFLE -> "false"; // the column's own values, moved between rows: nothing to compare
            case CONSTANT -> "false"; // checked before the rewrite: no original value was the constant
            default -> "sha256(convert_to(" + q + "::text, 'UTF8')) in (select h from " + origins + ")";
        };
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*), count(*) filter (where " + survives + ") from " + from + " where " + q + " is not null")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    private void record(List<Done> done, String backupId, Instant now) throws SQLException {
        execute("create schema if not exists bunker_scrub");
        execute("create table if not exists bunker_scrub.columns (schema_name text, table_name text, column_name text, rule text, rows_changed bigint,"
                + " rows_sampled bigint, survivors bigint, backup_id text, scrubbed_at timestamptz)");
        try (PreparedStatement ps = c.prepareStatement("insert into bunker_scrub.columns values (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (Done d : done) {
                ps.setString(1, d.column().schema());
                ps.setString(2, d.column().table());
                ps.setString(3, d.column().name());
                ps.setString(4, d.rule().toString().startsWith("constant") ? "constant" : d.rule().toString()); // not the constant itself
                ps.setLong(5, d.rowsChanged());
                ps.setLong(6, d.sampled());
                ps.setLong(7, d.survivors());
                ps.setString(8, backupId);
                ps.setTimestamp(9, Timestamp.from(now));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private long count(String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void execute(String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static String quote(String id) {
        return "\"" + id.replace("\"", "\"\"") + "\"";
    }

    static String literal(String v) {
        return "'" + v.replace("'", "''") + "'";
    }
}
