package dev.bunker.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mapping of the YAML file, read field by field. It remembers its path so every error names
 * the field, and which keys were read so {@link #rejectUnknownKeys()} can name any typo.
 */
final class ConfigNode {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private final JsonNode node;
    private final String path;
    private final String file;
    private final Path baseDir;
    private final Function<String, String> env;
    private final Set<String> read = new LinkedHashSet<>();

    ConfigNode(JsonNode node, String path, String file, Path baseDir, Function<String, String> env) {
        this.node = node == null ? MissingNode.getInstance() : node;
        this.path = path;
        this.file = file;
        this.baseDir = baseDir;
        this.env = env;
        if (!this.node.isMissingNode() && !this.node.isNull() && !this.node.isObject()) {
            throw fail(path, "expected a mapping of keys to values, found " + describe(this.node));
        }
    }

    String path() { return path; }

    boolean isPresent() { return node.isObject(); }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    ConfigException fail(String field, String problem) {
        return new ConfigException(file, field, problem);
    }

    ConfigException failAt(String key, String problem) {
        return fail(child(key), problem);
    }

    String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    ConfigNode section(String key) {
        read.add(key);
        return new ConfigNode(node.get(key), child(key), file, baseDir, env);
    }

    /** The nested mappings of a mapping-of-mappings, e.g. {@code stores: {name: {...}}}, in file order. */
    Map<String, ConfigNode> sections(String key) {
        ConfigNode parent = section(key);
        Map<String, ConfigNode> out = new LinkedHashMap<>();
        for (String name : parent.keys()) out.put(name, parent.section(name));
        return out;
    }

    String string(String key, String defaultValue) {
        read.add(key);
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return defaultValue;
        if (!v.isValueNode() || v.isBinary()) throw failAt(key, "expected a single value, found " + describe(v));
        return substitute(key, v.asText());
    }

    String requiredString(String key, String whatItIs) {
        String v = string(key, null);
        if (v == null || v.isBlank()) throw failAt(key, "missing; expected " + whatItIs);
        return v;
    }

    int integer(String key, int defaultValue, int min, int max) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw failAt(key, n + " is out of range; expected a whole number from " + min + " to " + max);
            return n;
        } catch (NumberFormatException e) {
            throw failAt(key, "\"" + v + "\" is not a whole number; expected a whole number from " + min + " to " + max);
        }
    }

    long bytes(String key, long defaultValue, long min, long max) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        Matcher m = Pattern.compile("(\\d{1,12})\\s*(|B|KiB|MiB|GiB|KB|MB|GB)").matcher(v.trim());
        if (!m.matches()) throw failAt(key, "\"" + v + "\" is not a size; expected a number with an optional unit B, KiB, MiB, GiB (e.g. 16MiB)");
        long n = Long.parseLong(m.group(1));
        long mult = switch (m.group(2)) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            case "KB" -> 1000L;
            case "MB" -> 1000_000L;
            case "GB" -> 1000_000_000L;
            default -> 1L;
        };
        long bytes = n * mult;
        if (bytes < min || bytes > max) throw failAt(key, v + " is out of range; expected between " + min + " and " + max + " bytes");
        return bytes;
    }

    boolean bool(String key, boolean defaultValue) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        return switch (v.trim().toLowerCase()) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw failAt(key, "\"" + v + "\" is not true or false");
        };
    }

    Duration duration(String key, Duration defaultValue) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw failAt(key, e.getMessage());
        }
    }

    Path path(String key, Path defaultValue) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        if (v.isBlank()) throw failAt(key, "is empty; expected a folder path");
        Path p = Path.of(v);
        return (p.isAbsolute() ? p : baseDir.resolve(p)).normalize();
    }

    <E extends Enum<E>> E choice(String key, Class<E> type, E defaultValue) {
        String v = string(key, null);
        if (v == null) return defaultValue;
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v.trim().replace('-', '_'))) return e;
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) names.add(e.name().toLowerCase().replace('_', '-'));
        throw failAt(key, "\"" + v + "\" is not one of " + String.join(", ", names));
    }

    List<String> strings(String key, List<String> defaultValue) {
        read.add(key);
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return defaultValue;
        if (v.isValueNode()) return List.of(substitute(key, v.asText()));
        if (!v.isArray()) throw failAt(key, "expected a list of values, found " + describe(v));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            if (!item.isValueNode()) throw fail(child(key) + "[" + i + "]", "expected a single value, found " + describe(item));
            out.add(substitute(key + "[" + i + "]", item.asText()));
        }
        return out;
    }

    /** Call after reading every known key: a key nobody read is a typo or an unsupported option. */
    void rejectUnknownKeys() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!read.contains(key)) {
                throw failAt(key, "unknown key; expected one of " + String.join(", ", read));
            }
        }
    }

    private String substitute(String key, String text) {
        Matcher m = ENV.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null) value = m.group(2);
            if (value == null) {
                throw failAt(key, "environment variable " + m.group(1) + " is not set; set it, or write ${"
                        + m.group(1) + ":-default} to give a default");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String describe(JsonNode v) {
        if (v.isObject()) return "a mapping";
        if (v.isArray()) return "a list";
        return "\"" + v.asText() + "\"";
    }
}
