package dev.bunker.lifecycle;

import dev.bunker.store.Sha256;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;

/**
 * What the lifecycle would move towards destruction now: objects whose trash period ended, objects whose
 * holds are to be released, objects due for purge; and a short code derived from exactly that set. An
 * operator confirms the code after reviewing the set, so a confirmation never covers objects it did not see.
 */
public record DeletionReview(List<String> expiring, List<String> releasing, List<String> purging, String code) {
    static DeletionReview of(Collection<String> expiring, Collection<String> releasing, Collection<String> purging) {
        List<String> e = expiring.stream().sorted().toList();
        List<String> r = releasing.stream().sorted().toList();
        List<String> p = purging.stream().sorted().toList();
        String all = "expire\n" + String.join("\n", e) + "\nrelease\n" + String.join("\n", r) + "\npurge\n" + String.join("\n", p);
        return new DeletionReview(e, r, p, Sha256.hexOf(all.getBytes(StandardCharsets.UTF_8)).substring(0, 12));
    }

    public String summary() {
        return expiring.size() + " to delete permanently, " + releasing.size() + " to release holds of, " + purging.size() + " to purge";
    }
}
