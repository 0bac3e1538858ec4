package dev.bunker.pitr;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.bunker.backup.ManifestTrust;
import dev.bunker.backup.SigningKey;
import java.io.IOException;
import java.util.Arrays;

/** Metadata objects of stored WAL and binary logs: a signature line, then the JSON it signs. */
public final class SignedJson {
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private SignedJson() {}

    public static byte[] sign(Object value, SigningKey key) throws IOException {
        byte[] json = JSON.writeValueAsBytes(value);
        byte[] signature = key.sign(json);
        byte[] out = Arrays.copyOf(signature, signature.length + json.length);
        System.arraycopy(json, 0, out, signature.length, json.length);
        return out;
    }

    /** The value a metadata object holds once its signature is checked, or why it is not trusted. */
    public record Opened<T>(T value, String problem) {}

    public static <T> Opened<T> open(byte[] metadata, ManifestTrust trust, Class<T> type, String what) {
        int nl = indexOf(metadata, (byte) '\n');
        if (nl < 0) return new Opened<>(null, "not " + what + " (no signature line)");
        byte[] signature = Arrays.copyOfRange(metadata, 0, nl + 1);
        byte[] json = Arrays.copyOfRange(metadata, nl + 1, metadata.length);
        String problem = trust.signatureProblem(json, signature);
        if (problem != null) return new Opened<>(null, problem);
        try {
            return new Opened<>(JSON.readValue(json, type), null);
        } catch (IOException e) {
            return new Opened<>(null, "its metadata cannot be read: " + e.getMessage());
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) if (bytes[i] == b) return i;
        return -1;
    }
}
