package dev.bunker.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON written beside every backup: enough to find, verify, decrypt and check it without Bunker's
 * database. A backup without a manifest is not a backup (an interrupted one), and is never listed.
 */
public record Manifest(String id, String source, String kind, Instant startedAt, Instant finishedAt, String serverVersion,
                       String format, String dataKey, long size, String sha256, List<String> recipients, Instant retainUntil,
                       Instant keepUntil, Map<String, Long> rowCounts) {
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);
    public static final String SUFFIX = ".manifest.json";

    public byte[] toJson() throws IOException {
        return JSON.writeValueAsBytes(this);
    }

    public static Manifest parse(byte[] json) throws IOException {
        return JSON.readValue(json, Manifest.class);
    }

    public String manifestKey() {
        return keyPrefix(source) + id + SUFFIX;
    }

    static String keyPrefix(String source) {
        return "backups/" + source + "/";
    }
}
