package dev.bunker.store;

import java.nio.charset.StandardCharsets;

/** The one rule for what may be an object key, so every store and the API refuse the same keys with the same words. */
public final class ObjectKeys {
    public static final int MAX_BYTES = 1024;

    private ObjectKeys() {}

    /** Returns the key, or throws {@link InvalidKeyException} saying what is wrong with it. */
    public static String validate(String store, String key) {
        String problem = problem(key);
        if (problem != null) throw new InvalidKeyException(store, key, "invalid object key " + quote(key) + ": " + problem);
        return key;
    }

    /** Null if the key is fine, else what is wrong with it. */
    public static String problem(String key) {
        if (key == null || key.isEmpty()) return "it is empty";
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) return "it is longer than " + MAX_BYTES + " bytes";
        if (key.startsWith("/")) return "it starts with '/'; keys are relative, like photos/2024/a.jpg";
        if (key.endsWith("/")) return "it ends with '/', which names a folder, not an object";
        if (key.contains("//")) return "it contains an empty segment ('//')";
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == 0) return "it contains a NUL character";
            if (c < 0x20 || c == 0x7f) return "it contains a control character (code " + (int) c + ")";
            if (c == '\\') return "it contains '\\'; use '/' to separate segments";
        }
        for (String segment : key.split("/")) {
            if (segment.equals(".") || segment.equals("..")) return "it contains a '" + segment + "' segment";
        }
        return null;
    }

    static String quote(String key) {
        if (key == null) return "(none)";
        String shown = key.length() > 120 ? key.substring(0, 120) + "…" : key;
        return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
    }
}
