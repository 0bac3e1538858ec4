package dev.bunker.config;

/** A configuration problem, worded as "file: field.path: what is wrong; what is expected". */
public final class ConfigException extends RuntimeException {
    private final String file;
    private final String field;

    public ConfigException(String file, String field, String problem) {
        super(format(file, field, problem));
        this.file = file;
        this.field = field;
    }

    private static String format(String file, String field, String problem) {
        StringBuilder sb = new StringBuilder();
        if (file != null) sb.append(file).append(": ");
        if (field != null && !field.isEmpty()) sb.append(field).append(": ");
        return sb.append(problem).toString();
    }

    public String file() { return file; }

    public String field() { return field; }
}
