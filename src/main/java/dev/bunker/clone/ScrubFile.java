package dev.bunker.clone;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A scrub file: {@code schema.table.column: RULE} lines, and optionally {@code hash-key-file: PATH} for a hash key that stays
 * the same from clone to clone (else each clone draws a random one).
 */
public record ScrubFile(Path path, Map<ColumnName, ScrubRule> rules, Path hashKeyFile) {
    public static final String HASH_KEY_FILE = "hash-key-file";

    public static ScrubFile read(Path path) throws CloneException {
        Object root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readValue(Files.readString(path), Object.class);
        } catch (NoSuchFileException e) {
            throw new CloneException("unable to read missing scrub file '" + path + "'", true);
        } catch (IOException e) {
            throw new CloneException("scrub file '" + path + "' is not YAML: " + e.getMessage().lines().findFirst().orElse(""), true);
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new CloneException("scrub file '" + path + "' must map schema.table.column to a rule, e.g. public.accounts.email: hash", true);
        }
        Map<ColumnName, ScrubRule> rules = new TreeMap<>();
        Path key = null;
        List<String> problems = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = String.valueOf(e.getKey());
            if (k.equals(HASH_KEY_FILE)) {
                if (!(e.getValue() instanceof String s) || s.isBlank()) problems.add(HASH_KEY_FILE + ": expected a file path");
                else key = path.toAbsolutePath().getParent().resolve(s);
                continue;
            }
            try {
                ColumnName column = ColumnName.parse(k);
                if (rules.put(column, rule(e.getValue())) != null) problems.add(k + ": named twice");
            } catch (IllegalArgumentException bad) {
                problems.add(k + ": " + bad.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new CloneException("scrub file '" + path + "': " + String.join("; ", problems) + "; fix these entries and run again", true);
        }
        return new ScrubFile(path, rules, key);
    }

    private static ScrubRule rule(Object value) {
        if (value instanceof String s) return ScrubRule.of(s);
        if (value instanceof Map<?, ?> m && m.size() == 1 && m.containsKey("constant")) {
            Object c = m.get("constant");
            return ScrubRule.constant(c == null ? null : String.valueOf(c));
        }
        throw new IllegalArgumentException("expected a rule (" + ScrubRule.Kind.words() + "), got " + (value == null ? "nothing" : value));
    }

    /**
     * The hash key: the {@code hash-key-file}'s bytes, which must not be readable by every user (the key makes the hashes
     * reversible by trying candidates); else {@code random} (one per clone).
     */
    public byte[] hashKey(byte[] random) throws CloneException {
        if (hashKeyFile == null) return random;
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(hashKeyFile);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                throw new CloneException("hash key file '" + hashKeyFile + "' is readable by every user; chmod 600 it (or 640) and run again", true);
            }
            byte[] key = Files.readAllBytes(hashKeyFile);
            if (key.length < 16) {
                throw new CloneException("hash key file '" + hashKeyFile + "' holds " + key.length + " bytes; put at least 16 random bytes in it "
                        + "(head -c 32 /dev/urandom > FILE)", true);
            }
            return key;
        } catch (NoSuchFileException e) {
            throw new CloneException("unable to read missing hash key file '" + hashKeyFile + "' (named by " + path + ")", true);
        } catch (IOException e) {
            throw new CloneException("unable to read hash key file '" + hashKeyFile + "': " + e.getMessage(), true);
        }
    }
}
