package dev.bunker.clone;

import dev.bunker.clone.ScrubPlan.Planned;
import dev.bunker.clone.ScrubRule.Kind;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The rules of a scrub computed on values as they stream into the clone, with the meaning {@link ScrubSql} gives them in
 * the database: {@code hash} is HMAC-SHA256 of the value's text, lowercase hex (cut to the column's length; a uuid takes its
 * first 16 bytes, a bigint its first 60 bits), {@code fake-*} picks from a pool by 24 bits of the same HMAC. One instance per
 * thread ({@link Mac} and {@link MessageDigest} are not shared).
 */
final class ScrubValues {
    private static final HexFormat HEX = HexFormat.of();

    private final Mac mac;
    private final MessageDigest sha256;
    private final Map<Kind, List<String>> pools;

    /** {@code pools}: each fake kind's values with the originals left out, as {@link ScrubDatabase} loads them. */
    ScrubValues(byte[] key, Map<Kind, List<String>> pools) {
        try {
            this.mac = Mac.getInstance("HmacSHA256");
            this.mac.init(new SecretKeySpec(key, "HmacSHA256"));
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        this.pools = pools;
    }

    /** A planned column with what its rule needs known once, not per value (its length is parsed from its type). */
    record Column(Planned planned, Kind kind, int maxLength, boolean padded, String type, String constant) {
        static Column of(Planned p) {
            String type = p.column().type();
            return new Column(p, p.rule().kind(), p.column().maxLength(), type.startsWith("character(") || type.equals("character"), type,
                    p.rule().constant());
        }
    }

    /** The new value of {@code value} (null stays null) under a deterministic rule; shuffles are dealt by the caller. */
    String apply(Column p, String value) {
        Kind kind = p.kind();
        if (value == null) return null;
        return switch (kind) {
            case NULL -> null;
            case CONSTANT -> p.constant();
            case HASH -> {
                byte[] h = hmac(p, value);
                yield switch (p.type()) {
                    case "uuid" -> {
                        String x = HEX.formatHex(h, 0, 16);
                        yield x.substring(0, 8) + "-" + x.substring(8, 12) + "-" + x.substring(12, 16) + "-" + x.substring(16, 20) + "-" + x.substring(20);
                    }
                    case "bigint" -> Long.toString(Long.parseLong(HEX.formatHex(h, 0, 8).substring(0, 15), 16)); // 60 bits: always positive
                    default -> {
                        String x = HEX.formatHex(h);
                        int n = p.maxLength();
                        yield n > 0 && n < 64 ? x.substring(0, n) : x;
                    }
                };
            }
            case FAKE_EMAIL, FAKE_NAME, FAKE_PHONE -> {
                byte[] h = hmac(p, value);
                List<String> pool = pools.get(kind);
                String picked = pool.get((((h[20] & 0xff) << 16) | ((h[21] & 0xff) << 8) | (h[22] & 0xff)) % pool.size());
                int n = p.maxLength();
                yield kind == Kind.FAKE_EMAIL
                        ? left(picked, n == 0 ? 40 : n - 25) + "." + HEX.formatHex(h, 0, 6) + "@example.com"
                        : n > 0 ? left(picked, n) : picked;
            }
            default -> throw new IllegalStateException("not a value rule: " + kind);
        };
    }

    /** The HMAC of the value's text as the server gives it ({@code value::text}: a character(n) without its padding). */
    private byte[] hmac(Column p, String value) {
        String text = p.padded() ? unpadded(value) : value;
        return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The first 8 bytes of the SHA-256 of a value's text, as {@link ScrubSql#digest}: how originals are compared with new
     * values (a chance collision can only fail a clone, never pass one).
     */
    long digest(String value) {
        byte[] d = sha256.digest(value.getBytes(StandardCharsets.UTF_8));
        long out = 0;
        for (int i = 0; i < 8; i++) out = (out << 8) | (d[i] & 0xff);
        return out;
    }

    /** A character(n) value's text as {@code ::text} gives it: without its trailing spaces (only spaces: a tab stays). */
    static String unpadded(String value) {
        int end = value.length();
        while (end > 0 && value.charAt(end - 1) == ' ') end--;
        return value.substring(0, end);
    }

    /** The first {@code n} characters (code points, as SQL's {@code left}). */
    private static String left(String s, int n) {
        if (s.codePointCount(0, s.length()) <= n) return s;
        return s.substring(0, s.offsetByCodePoints(0, n));
    }
}
