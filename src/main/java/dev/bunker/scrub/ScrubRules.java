package dev.bunker.scrub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scrub file: {@code columns:} maps {@code schema.table.column} (or {@code table.column}, schema public) to a rule,
 * and {@code hash-key-file:} optionally names a key that keeps hashes the same from one clone to the next.
 */
public record ScrubRules(Map<Column, Rule> columns, byte[] hashKey, Path file) {
    /** A column, by schema, table and name as PostgreSQL spells them (case matters). */
    public record Column(String schema, String table, String name) {
        @Override
        public String toString() {
            return schema + "." + table + "." + name;
        }
    }

    public enum Kind {
        FAKE_EMAIL("fake-email"), FAKE_NAME("fake-name"), FAKE_PHONE("fake-phone"), HASH("hash"), NULL("null"), CONSTANT("constant"),
        SHUFFLE("shuffle"), KEEP("keep");

        final String word;

        Kind(String word) {
            this.word = word;
        }

        /** The same input always gives the same output: safe on both ends of a foreign key. */
        boolean deterministic() {
            return this != SHUFFLE && this != KEEP;
        }
    }

    /** A rule; {@code constant} is the value of {@code constant: X}, else null. */
    public record Rule(Kind kind, String constant) {
        @Override
        public String toString() {
            return kind == Kind.CONSTANT ? "constant: " + constant : kind.word;
        }
    }

    public static ScrubRules load(Path file) throws IOException {
        JsonNode root;
        try {
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory()); // a column named twice is a mistake, not "the last one wins"
            yaml.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = yaml.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ScrubException("scrub file " + file + " not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ScrubException("scrub file " + file + " is not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new ScrubException("scrub file " + file + " must be a map with `columns:` (schema.table.column: rule)");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("columns") && !k.equals("hash-key-file")) {
                throw new ScrubException(file + ": unknown key '" + k + "'; expected columns and, optionally, hash-key-file");
            }
        }
        JsonNode cols = root.get("columns");
        if (cols == null || !cols.isObject() || cols.isEmpty()) throw new ScrubException(file + ": `columns:` must map schema.table.column to a rule");
        Map<Column, Rule> out = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = cols.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Column c = column(e.getKey());
            if (c == null) {
                problems.add("'" + e.getKey() + "' is not schema.table.column");
                continue;
            }
            try {
                out.put(c, rule(e.getValue()));
            } catch (ScrubException bad) {
                problems.add(c + ": " + bad.getMessage());
            }
        }
        if (!problems.isEmpty()) throw new ScrubException(file + ": " + String.join("; ", problems));
        byte[] key = null;
        JsonNode keyFile = root.get("hash-key-file");
        if (keyFile != null && !keyFile.isNull()) key = readKey(file.toAbsolutePath().getParent().resolve(keyFile.asText()));
        return new ScrubRules(out, key, file);
    }

    static Column column(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length == 2) parts = new String[] {"public", parts[0], parts[1]};
        if (parts.length != 3) return null;
        for (String p : parts) if (p.isEmpty()) return null;
        return new Column(parts[0], parts[1], parts[2]);
    }

    static Rule rule(JsonNode n) {
        if (n == null || n.isNull()) return new Rule(Kind.NULL, null); // YAML reads a bare null as null
        if (n.isObject() && n.size() == 1 && n.has("constant")) {
            JsonNode v = n.get("constant");
            if (v.isContainerNode()) throw new ScrubException("constant must be a single value");
            return new Rule(Kind.CONSTANT, v.isNull() ? null : v.asText());
        }
        if (n.isTextual()) {
            for (Kind k : Kind.values()) if (k != Kind.CONSTANT && k.word.equals(n.asText())) return new Rule(k, null);
        }
        throw new ScrubException("unknown rule " + n + "; expected fake-email, fake-name, fake-phone, hash, null, {constant: X}, shuffle or keep");
    }

    /** At least 32 bytes, in a file only its owner may read (it would let anyone holding a clone test guesses against the hashes). */
    static byte[] readKey(Path f) throws IOException {
        if (!Files.exists(f)) throw new ScrubException("hash-key-file " + f + " not found; create one with: head -c 32 /dev/urandom > " + f + " && chmod 600 " + f);
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
        if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
            throw new ScrubException("hash-key-file " + f + " may be read by others; chmod 600 " + f);
        }
        byte[] key = Files.readAllBytes(f);
        if (key.length < 32) throw new ScrubException("hash-key-file " + f + " holds " + key.length + " bytes; it needs at least 32 random bytes");
        return key;
    }
}
