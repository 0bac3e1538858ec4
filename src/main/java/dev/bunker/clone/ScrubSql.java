package dev.bunker.clone;

import dev.bunker.clone.ColumnName.TableName;
import dev.bunker.clone.ScrubPlan.Planned;
import dev.bunker.clone.ScrubRule.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The SQL of a scrub, set-based: one UPDATE per table for all its rewritten columns, shuffled ones included.
 * The keyed hash is HMAC-SHA256 computed by the server with its built-in {@code sha256}, the key's inner and outer pads read
 * from a session temp table. Identifiers are double-quoted; the only value spliced in is a pool size (an int the code made).
 */
final class ScrubSql {
    static final String KEY = "pg_temp.bunker_key";
    static final String POOL = "pg_temp.bunker_pool";
    static final String ORIGINALS = "pg_temp.bunker_originals";
    static final String SAMPLE = "pg_temp.bunker_sample";

    /** A statement and the values bound to its {@code ?} in order. */
    record Statement(String sql, List<String> params) {}

    private ScrubSql() {}

    /** HMAC's inner and outer pads of {@code key} (RFC 2104: a key longer than SHA-256's 64-byte block is hashed first). */
    static byte[][] pads(byte[] key) {
        byte[] k = new byte[64];
        byte[] given = key.length > 64 ? sha256(key) : key;
        System.arraycopy(given, 0, k, 0, given.length);
        byte[] ipad = new byte[64];
        byte[] opad = new byte[64];
        for (int i = 0; i < 64; i++) {
            ipad[i] = (byte) (k[i] ^ 0x36);
            opad[i] = (byte) (k[i] ^ 0x5c);
        }
        return new byte[][] {ipad, opad};
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The HMAC of a value's text (NULL for NULL: every function on the way is strict). */
    static String hmac(String value) {
        return "sha256((select opad from " + KEY + ") || sha256((select ipad from " + KEY + ") || convert_to(" + value + "::text, 'UTF8')))";
    }

    /**
     * The first 8 bytes of the SHA-256 of a value's text: how original values are remembered for the verification (small
     * enough for millions to stay in the session's memory; a chance collision could only fail a clone, never pass one).
     */
    static String digest(String value) {
        return "substring(sha256(convert_to(" + value + "::text, 'UTF8')) from 1 for 8)";
    }

    /** The pool index 24 bits of the HMAC pick (bytes 20..22, apart from the bytes shown as hex), or -1 for NULL. */
    private static String poolIndex(String h, int size) {
        return "coalesce(((get_byte(" + h + ", 20) << 16) | (get_byte(" + h + ", 21) << 8) | get_byte(" + h + ", 22)) % " + size + ", -1)";
    }

    /** The UPDATE rewriting every planned column of {@code table}. */
    static Statement update(TableName table, List<Planned> columns, Map<Kind, Integer> poolSizes) {
        List<String> sets = new ArrayList<>();
        List<String> from = new ArrayList<>();
        List<String> where = new ArrayList<>();
        List<String> nonNull = new ArrayList<>();
        List<String> params = new ArrayList<>();
        for (Planned p : columns) {
            Kind kind = p.rule().kind();
            String c = "x." + p.column().name().sqlColumn();
            if (kind == Kind.SHUFFLE) { // a permutation of the column's values, joined by row; NULL rows map to NULL
                String sh = "s" + from.size();
                from.add(shuffled(table, p.column().name()) + " " + sh);
                where.add("x.ctid = " + sh + ".row_id");
                sets.add(p.column().name().sqlColumn() + " = " + sh + ".v");
                nonNull.add(c + " IS NOT NULL");
                continue;
            }
            String h = hmac(c);
            int n = p.column().maxLength();
            String pool = "p" + from.size();
            String value = switch (kind) {
                case HASH -> switch (p.column().type()) {
                    case "uuid" -> "encode(substring(" + h + " from 1 for 16), 'hex')::uuid";
                    case "bigint" -> "('x' || substr(encode(" + h + ", 'hex'), 1, 15))::bit(60)::bigint"; // 60 bits: always positive
                    default -> n > 0 && n < 64 ? "left(encode(" + h + ", 'hex'), " + n + ")" : "encode(" + h + ", 'hex')";
                };
                case FAKE_EMAIL -> "left(" + pool + ".v, " + (n == 0 ? 40 : n - 25) + ") || '.' || substr(encode(" + h + ", 'hex'), 1, 12) || '@example.com'";
                case FAKE_NAME, FAKE_PHONE -> n > 0 ? "left(" + pool + ".v, " + n + ")" : pool + ".v";
                case NULL -> "NULL";
                case CONSTANT -> {
                    params.add(p.rule().constant());
                    yield "CASE WHEN " + c + " IS NULL THEN " + c + " ELSE ? END";
                }
                default -> throw new IllegalStateException(kind.toString());
            };
            if (kind.pooled()) {
                from.add(POOL + " " + pool);
                where.add(pool + ".kind = '" + kind.word() + "' AND " + pool + ".i = " + poolIndex(h, poolSizes.get(kind)));
            }
            sets.add(p.column().name().sqlColumn() + " = " + value);
            nonNull.add(c + " IS NOT NULL");
        }
        if (sets.isEmpty()) return null;
        // Rows with nothing to rewrite are left alone; a pool has a row at -1 (value NULL), so a NULL still joins exactly one.
        where.add("(" + String.join(" OR ", nonNull) + ")");
        return new Statement("UPDATE " + table.sql() + " AS x SET " + String.join(", ", sets)
                + (from.isEmpty() ? "" : " FROM " + String.join(", ", from)) + " WHERE " + String.join(" AND ", where), params);
    }

    /**
     * Every row of {@code table} (by ctid) with the value it gets: the column's non-NULL values in random order, so the
     * whole table is rewritten in the same UPDATE as its other columns (one pass over a wide table, not two).
     */
    static String shuffled(TableName table, ColumnName column) {
        String c = column.sqlColumn();
        String t = table.sql();
        return "(select a.row_id, b.v from (select ctid as row_id, case when " + c + " is null then null else row_number() over (partition by "
                + c + " is null) end as rn from " + t + ") a left join (select " + c + " as v, row_number() over (order by random()) as rn from "
                + t + " where " + c + " is not null) b on a.rn = b.rn)";
    }

    /** Remembers the digests of the original values of the columns numbered in {@code ids} (their index in the plan). */
    static String originals(TableName table, List<Planned> columns, List<Integer> ids) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) values.add("(" + ids.get(i) + ", " + digest("x." + columns.get(i).column().name().sqlColumn()) + ")");
        return "INSERT INTO " + ORIGINALS + " (k, h) SELECT v.k, v.h FROM " + table.sql() + " x, LATERAL (VALUES " + String.join(", ", values)
                + ") v(k, h) WHERE v.h IS NOT NULL";
    }

    /** Row count, then the non-NULL count of each column. */
    static String counts(TableName table, List<Planned> columns) {
        StringBuilder sb = new StringBuilder("SELECT count(*)");
        for (Planned p : columns) sb.append(", count(x.").append(p.column().name().sqlColumn()).append(")");
        return sb.append(" FROM ").append(table.sql()).append(" x").toString();
    }

    /**
     * Up to {@code limit} rows of {@code table} (all when it has no more; else from a page sample), per column: the digest
     * of the new value (compared with the originals') and its text (a null or constant rule is checked on it).
     */
    static String sample(TableName table, List<Planned> columns, List<Integer> ids, long rows, int limit) {
        List<String> values = new ArrayList<>();
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            String c = columns.get(i).column().name().sqlColumn();
            cols.add(c);
            values.add("(" + ids.get(i) + ", " + digest("s." + c) + ", s." + c + "::text)");
        }
        String sampling = rows <= limit ? "" : " TABLESAMPLE SYSTEM (" + Math.min(100.0, 300.0 * limit / rows) + ")";
        return "INSERT INTO " + SAMPLE + " (k, h, v) SELECT v.k, v.h, v.v FROM (SELECT " + String.join(", ", cols) + " FROM " + table.sql()
                + sampling + " LIMIT " + limit + ") s, LATERAL (VALUES " + String.join(", ", values) + ") v(k, h, v)";
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
