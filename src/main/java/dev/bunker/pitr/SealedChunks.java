package dev.bunker.pitr;

import com.github.luben.zstd.ZstdInputStream;
import dev.bunker.backup.AgeCrypto;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * Reads one stored log chunk (WAL or binary log: zstd and age, its size and SHA-256 in its signed metadata) from the
 * first backup store that holds it whole: a copy that is missing, of other bytes, or that does not decrypt and decompress
 * to exactly {@code length} bytes is passed over for the next store, and why goes into {@code problems}.
 */
public final class SealedChunks {
    private SealedChunks() {}

    /** The chunk's plain bytes, or null when no store in {@code order} has it whole (then {@code problems} says why, per store). */
    public static byte[] read(String dataKey, long size, String sha256, int length, Map<String, Store> stores, List<String> order,
                              List<String> identities, List<String> problems) throws IOException {
        for (String name : order) {
            Store store = stores.get(name);
            if (store == null) continue;
            byte[] data;
            try (InputStream in = store.get(dataKey)) {
                data = in.readNBytes((int) Math.min(size + 1, Integer.MAX_VALUE - 8));
            } catch (StoreException | IOException e) {
                problems.add(name + ": " + e.getMessage());
                continue;
            }
            String sha = Sha256.hexOf(data);
            if (data.length != size || !sha.equals(sha256)) {
                problems.add(name + ": the copy has SHA-256 " + sha + " (" + data.length + " bytes), its metadata says " + sha256 + " (" + size + ")");
                continue;
            }
            try (InputStream plain = new ZstdInputStream(AgeCrypto.decrypting(new ByteArrayInputStream(data), identities))) {
                // Read straight into the range's array, a large piece at a time (readNBytes reads 16 KiB pieces and joins them).
                byte[] bytes = new byte[length];
                int got = 0;
                for (int n; got < length && (n = plain.read(bytes, got, length - got)) > 0; ) got += n;
                boolean more = got == length && plain.read() >= 0;
                if (got != length || more) {
                    problems.add(name + ": it decrypts to " + (more ? "more than" : got) + " bytes, not the " + length + " of its range");
                    continue;
                }
                return bytes;
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("unable to decrypt")) throw e; // the wrong key: every copy says so
                problems.add(name + ": it does not decrypt and decompress (" + e.getMessage() + ")");
            }
        }
        return null;
    }
}
