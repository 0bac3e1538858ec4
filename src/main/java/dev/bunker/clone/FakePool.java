package dev.bunker.clone;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import net.datafaker.Faker;

/**
 * The fake values {@code fake-name}, {@code fake-phone} and {@code fake-email} pick from: a few thousand distinct values per
 * kind made by datafaker from a fixed seed, so the same key picks the same value from clone to clone.
 */
public final class FakePool {
    /** Values per kind: a value is picked by 24 bits of a keyed hash, so duplicates among the outputs are rare but possible. */
    static final int SIZE = 4096;
    private static final long SEED = 0x5C2B_B0E5L;

    private FakePool() {}

    /** The pool of {@code kind} (fake-name, fake-phone, or fake-email's local parts), each value once. */
    public static List<String> of(ScrubRule.Kind kind) {
        Faker faker = new Faker(Locale.US, new Random(SEED + kind.ordinal()));
        Set<String> values = new LinkedHashSet<>();
        for (int tries = 0; values.size() < SIZE && tries < SIZE * 20; tries++) {
            values.add(switch (kind) {
                case FAKE_NAME -> faker.name().fullName();
                case FAKE_PHONE -> faker.phoneNumber().phoneNumber();
                case FAKE_EMAIL -> faker.internet().username().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "");
                default -> throw new IllegalArgumentException("no pool for " + kind);
            });
        }
        values.remove("");
        return new ArrayList<>(values);
    }
}
