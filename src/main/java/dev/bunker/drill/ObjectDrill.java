package dev.bunker.drill;

import dev.bunker.replication.CopyState;
import dev.bunker.drill.DrillRuns.Check;
import dev.bunker.replication.Ledger;
import dev.bunker.replication.ReplicationJobs;
import dev.bunker.config.BunkerConfig;
import dev.bunker.store.ObjectArchivedException;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.Sha256;
import dev.bunker.store.Store;
import dev.bunker.store.StoreException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The replica drill: a random sample of live objects, each read from every store that holds a
 * verified copy (cold ones included) and hashed against the ledger. A missing or corrupt copy is
 * recorded, re-enqueued for repair, and fails the drill. A copy archived in a cold storage class
 * (S3 GLACIER, DEEP_ARCHIVE) cannot be read without a restore that takes hours: the drill then
 * checks its size from the store's metadata and says so.
 */
public final class ObjectDrill {


    private final BunkerConfig config;
    private final Map<String, Store> stores;
    private final Ledger ledger;
    private final ReplicationJobs jobs;
    private final DrillRuns runs;
    private final Clock clock;

    public ObjectDrill(BunkerConfig config, Map<String, Store> stores, Ledger ledger, ReplicationJobs jobs, DrillRuns runs,
                       Clock clock) {
        this.config = config;
        this.stores = stores;
        this.ledger = ledger;
        this.jobs = jobs;
        this.runs = runs;
        this.clock = clock;
    }

    public DrillRuns.Run run(int sample) throws SQLException {
        Instant started = clock.instant();
        List<Ledger.Sampled> picked = ledger.sampleLive(sample);
        List<Check> problems = new ArrayList<>();
        int copiesRead = 0;
        int archived = 0;
        StringBuilder log = new StringBuilder();
        for (Ledger.Sampled o : picked) {
            for (Ledger.CopyRow copy : ledger.copies(o.key())) {
                if (copy.state() != CopyState.VERIFIED || !stores.containsKey(copy.store())) continue;
                Verdict v = check(stores.get(copy.store()), o, copy, config.store(copy.store()).archival());
                if (v.read()) copiesRead++;
                if (v.archived()) archived++;
                String problem = v.problem();
                CopyState newState = v.newState();
                if (problem != null) {
                    problems.add(new Check(copy.store() + ": " + o.key(), false, problem));
                    log.append("FAIL ").append(copy.store()).append(' ').append(o.key()).append(": ").append(problem).append('\n');
                    if (newState != null) {
                        ledger.mark(o.key(), copy.store(), newState, "object drill: " + problem);
                        jobs.enqueue(o.key(), List.of(copy.store()));
                    }
                }
            }
        }
        List<Check> checks = new ArrayList<>();
        checks.add(new Check("sampled objects", true, (picked.isEmpty() ? "no live objects yet; nothing to check" : picked.size() + " objects, "
                + copiesRead + " copies read and hashed")
                + (archived > 0 ? ", " + archived + " archived copies checked by size only (cold storage needs a restore to be read)" : "")));
        checks.addAll(problems);
        boolean ok = problems.isEmpty();
        log.insert(0, "sampled " + picked.size() + " objects, read " + copiesRead + " copies\n");
        return runs.record(new DrillRuns.Run(0, "objects", started, clock.instant(), ok, null, null, null, checks, log.toString()));
    }

    /** What checking one copy found: a problem (null if none), the copy's state to record (null: none, an outage), how it was checked. */
    private record Verdict(String problem, CopyState newState, boolean read, boolean archived) {}

    private static Verdict check(Store store, Ledger.Sampled o, Ledger.CopyRow copy, boolean archival) {
        try {
            if (archival) return archivedVerdict(store, o, copy);
            String sha = Sha256.ofCopy(store, o.key(), copy.versionId());
            return new Verdict(sha.equals(o.sha256()) ? null : "SHA-256 " + sha + " differs from the ledger's " + o.sha256(), CopyState.CORRUPT,
                    true, false);
        } catch (ObjectNotFoundException e) {
            return new Verdict("missing", CopyState.MISSING, false, false);
        } catch (ObjectArchivedException e) {
            // Moved to an archival class by a bucket rule Bunker was not told about: check what can be checked without a restore.
            return archivedVerdict(store, o, copy);
        } catch (StoreException e) {
            return new Verdict("unreadable: " + e.getMessage(), null, false, false); // an outage is not a lost copy: the health alert covers it
        }
    }

    private static Verdict archivedVerdict(Store store, Ledger.Sampled o, Ledger.CopyRow copy) {
        String problem = archivedProblem(store, o, copy);
        return new Verdict(problem, problem == null ? null : problem.equals("missing") ? CopyState.MISSING : CopyState.CORRUPT, false, true);
    }

    /** Size and (where known) the checksum the store confirmed when the copy was made; null if they match. */
    private static String archivedProblem(Store store, Ledger.Sampled o, Ledger.CopyRow copy) {
        ObjectInfo info = store.stat(o.key()).orElse(null);
        if (info == null) return "missing";
        if (info.size() != o.size()) return "archived copy has " + info.size() + " bytes, expected " + o.size();
        if (copy.storeChecksum() != null && info.storeChecksum() != null && !copy.storeChecksum().equals(info.storeChecksum())) {
            return "archived copy has checksum " + info.storeChecksum() + ", the copy was made with " + copy.storeChecksum();
        }
        return null;
    }
}
