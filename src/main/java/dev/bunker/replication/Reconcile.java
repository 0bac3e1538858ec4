package dev.bunker.replication;

import dev.bunker.db.Tx;
import dev.bunker.config.BunkerConfig.ReplicationConfig;
import dev.bunker.store.FullListing;
import dev.bunker.store.ObjectInfo;
import dev.bunker.store.Store;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * Brings the ledger and the stores back in line: objects in the primary the ledger lacks are recorded
 * and enqueued; verified copies a store no longer holds are marked missing and re-enqueued; objects
 * short of their policy's copies (a policy changed, a job was lost) are enqueued. Listings go into a
 * temporary table so the comparison is a join, whatever the number of objects.
 */
public final class Reconcile {
    /** What reconcile found and did. */
    public record Summary(Map<String, Long> listed, Map<String, String> listedFrom, long newObjects, Map<String, Long> missingCopies,
                          long shortOfPolicy, long enqueued) {}

    /**
     * How far a report's clock (the S3 Inventory's creation time) may be off Bunker's: copies verified less than this
     * before the report are not marked missing for being absent from it (a wrong "missing" would only cost a re-copy).
     */
    static final java.time.Duration REPORT_CLOCK_SKEW = java.time.Duration.ofMinutes(15);

    private static final int BATCH = 1000;
    static final String CREATE_LISTING = "create temp table if not exists listing (key text collate \"C\" primary key, size bigint not null)";
    static final String FILL = "insert into listing select * from unnest(?::text[], ?::bigint[]) on conflict do nothing";
    /**
     * One page of the ledger: the keys first (a range of the primary key) with their folded copies, then each key's verified rows and job by
     * their own index lookups, so a page costs the same wherever it starts and however large the ledger. Both lookups
     * are scalar subqueries on purpose: a join grouped after the fact walked every copy before the page's first key,
     * and an {@code exists} was planned as a hash of the whole queue built again for every page (at 10^7 objects, 11 of
     * a page's 57 ms): quadratic over a whole pass, either way.
     */
    static final String PAGE = """
            select p.key,
                   array(select s.name from stores s where p.verified_on & (1 << s.id) <> 0)
                       || coalesce((select array_agg(c.store) from copy_rows c where c.key = p.key and c.state = 'verified'), '{}'),
                   (select true from replication_jobs j where j.key = p.key) is not null
              from (select key, verified_on from objects where key > ? and state in ('live', 'trashed') order by key limit ?) p
             order by p.key
            """;

    private final DataSource db;
    private final ReplicationConfig config;
    private final Map<String, Store> stores;
    private final java.time.Clock clock;

    public Reconcile(DataSource db, ReplicationConfig config, Map<String, Store> stores, java.time.Clock clock) {
        this.clock = clock;
        this.db = db;
        this.config = config;
        this.stores = stores;
    }

    /** Runs a full pass; {@code progress} gets one line per step (for a terminal progress display). */
    public Summary run(Consumer<String> progress) throws SQLException {
        return run(progress, false);
    }

    /**
     * Runs a full pass, reading a store's inventory report where it has one configured, or listing every store itself
     * when {@code liveListingOnly}.
     */
    public Summary run(Consumer<String> progress, boolean liveListingOnly) throws SQLException {
        Map<String, Long> listed = new LinkedHashMap<>();
        Map<String, String> listedFrom = new LinkedHashMap<>();
        Map<String, Long> missing = new LinkedHashMap<>();
        long newObjects = 0;
        long enqueued = 0;
        Set<String> storesInUse = new java.util.LinkedHashSet<>();
        storesInUse.add(config.primary());
        storesInUse.addAll(config.targets());
        config.policies().forEach(p -> storesInUse.addAll(p.targets()));
        List<String> recorded = new ArrayList<>(); // objects this run recorded, from the primary's listing (listed first)
        for (String name : storesInUse) {
            Store store = stores.get(name);
            long[] found = Tx.run(db, c -> { // {listed, new objects, missing copies}
                Instant now = clock.instant();
                FullListing listing = liveListingOnly ? store.fullListing(now) : store.inventory(now).orElseGet(() -> store.fullListing(now));
                long n;
                try (listing) {
                    n = list(c, store.name(), listing, progress);
                }
                listedFrom.put(name, listing.describe());
                Instant asOf = listing.live() ? listing.asOf() : listing.asOf().minus(REPORT_CLOCK_SKEW);
                if (n == 0 && !listing.live() && CopyRecords.hasVerifiedCopiesBefore(c, name, asOf)) {
                    // an empty report of a store that held copies is a misconfiguration far more often than a lost bucket
                    throw new dev.bunker.store.InventoryException(name, "store '" + name + "': the " + listing.describe() + " lists no object "
                            + "under the store's prefix, but the ledger has copies verified there before it was taken; check the store's "
                            + "prefix and inventory.prefix, or run reconcile with --live-listing to list the store itself");
                }
                List<String> fresh = name.equals(config.primary()) ? Ledger.recordListedUnknown(c, asOf) : List.of();
                recorded.addAll(fresh);
                // a live listing shows what the store holds now: the copies it lacks need no look before they are written
                if (listing.live()) {
                    CopyRecords.copiesPendingUnlisted(c, name, recorded.stream().filter(k -> config.targetsFor(k).contains(name)).toList());
                }
                Map<String, List<String>> jobs = new LinkedHashMap<>();
                for (String key : fresh) jobs.put(key, null);
                ReplicationJobs.enqueueAll(c, jobs, clock.instant());
                List<String> gone = CopyRecords.markListedGone(c, name, asOf);
                jobs.clear();
                for (String key : gone) jobs.put(key, List.of(name));
                ReplicationJobs.enqueueAll(c, jobs, clock.instant());
                return new long[] {n, fresh.size(), gone.size()};
            });
            listed.put(name, found[0]);
            newObjects += found[1];
            missing.put(name, found[2]);
            enqueued += found[1] + found[2];
        }
        long shortOfPolicy = enqueueShortOfPolicy(progress);
        enqueued += shortOfPolicy;
        return new Summary(listed, listedFrom, newObjects, missing, shortOfPolicy, enqueued);
    }

    private long list(Connection c, String store, FullListing listing, Consumer<String> progress) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(CREATE_LISTING);
            st.execute("truncate listing");
        }
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(FILL)) {
            for (List<ObjectInfo> objects = listing.next(BATCH); !objects.isEmpty(); objects = listing.next(BATCH)) {
                ps.setArray(1, c.createArrayOf("text", objects.stream().map(ObjectInfo::key).toArray()));
                ps.setArray(2, c.createArrayOf("bigint", objects.stream().map(ObjectInfo::size).toArray()));
                ps.executeUpdate();
                n += objects.size();
                progress.accept("listing " + store + " (" + listing.describe() + "): " + n + " objects");
            }
        }
        progress.accept("listing " + store + " (" + listing.describe() + "): " + n + " objects");
        return n;
    }

    /** Walks the ledger in key order and enqueues objects lacking a verified copy on a store their policy names. */
    private long enqueueShortOfPolicy(Consumer<String> progress) throws SQLException {
        long enqueued = 0;
        long seen = 0;
        String after = "";
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(PAGE)) {
            while (true) {
                ps.setString(1, after);
                ps.setInt(2, BATCH);
                int rows = 0;
                Map<String, List<String>> toEnqueue = new LinkedHashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        String key = rs.getString(1);
                        after = key;
                        Array verifiedArr = rs.getArray(2);
                        Set<String> verified = new HashSet<>(Arrays.asList((String[]) verifiedArr.getArray()));
                        boolean hasJob = rs.getBoolean(3);
                        if (hasJob) continue;
                        List<String> lacking = new ArrayList<>();
                        for (String t : config.targetsFor(key)) if (!verified.contains(t)) lacking.add(t);
                        if (!lacking.isEmpty()) toEnqueue.put(key, lacking);
                    }
                }
                ReplicationJobs.enqueueAll(c, toEnqueue, clock.instant());
                enqueued += toEnqueue.size();
                seen += rows;
                progress.accept("checking policies: " + seen + " objects");
                if (rows < BATCH) break;
            }
        }
        return enqueued;
    }
}
