package dev.bunker.clone;

import java.util.Arrays;
import java.util.Locale;

/** What a clone does to one column: replace its values by a rule, or {@code keep} them (a decision written down). */
public record ScrubRule(Kind kind, String constant) {
    /** The rules a scrub file may name. */
    public enum Kind {
        FAKE_EMAIL("fake-email"), FAKE_NAME("fake-name"), FAKE_PHONE("fake-phone"), HASH("hash"), NULL("null"), CONSTANT("constant"),
        SHUFFLE("shuffle"), KEEP("keep");

        final String word;

        Kind(String word) { this.word = word; }

        public String word() { return word; }

        /** Picks its values from a fake pool ({@link FakePool}). */
        public boolean pooled() { return this == FAKE_EMAIL || this == FAKE_NAME || this == FAKE_PHONE; }

        /** Its new values are checked against the column's originals (null and constant are checked on their values). */
        public boolean comparedWithOriginals() { return this == HASH || pooled(); }

        static String words() {
            return String.join(", ", Arrays.stream(values()).map(k -> k == CONSTANT ? "{constant: X}" : k.word).toList());
        }
    }

    public static final ScrubRule KEEP = new ScrubRule(Kind.KEEP, null);

    /** A rule by its word (fake-email, hash, keep...); {@code constant} comes as a map, see {@link ScrubFile}. */
    static ScrubRule of(String word) {
        String w = word == null ? "" : word.trim().toLowerCase(Locale.ROOT);
        for (Kind k : Kind.values()) {
            if (k != Kind.CONSTANT && k.word.equals(w)) return new ScrubRule(k, null);
        }
        throw new IllegalArgumentException("unknown rule \"" + word + "\"; the rules are " + Kind.words());
    }

    static ScrubRule constant(String value) {
        if (value == null) throw new IllegalArgumentException("constant needs a value ({constant: X}); to blank a column use null");
        return new ScrubRule(Kind.CONSTANT, value);
    }

    /** The same input always gives the same output (within one clone): a foreign key survives it on both sides. */
    public boolean deterministic() {
        return kind != Kind.SHUFFLE && kind != Kind.KEEP;
    }

    /** Rules whose output the verification checks against the original values. */
    public boolean replaces() {
        return kind != Kind.SHUFFLE && kind != Kind.KEEP;
    }

    @Override
    public String toString() {
        return kind == Kind.CONSTANT ? "constant" : kind.word;
    }
}
