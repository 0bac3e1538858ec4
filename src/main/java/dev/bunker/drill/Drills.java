package dev.bunker.drill;

import dev.bunker.config.BunkerConfig;
import dev.bunker.store.Store;
import io.micrometer.core.instrument.MeterRegistry;
import javax.sql.DataSource;
import dev.bunker.Periodic;
import dev.bunker.replication.Replication;
import io.micrometer.core.instrument.Gauge;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The drills of one process, and (in serve) their daily schedule: the database drill and the replica drill. */
public final class Drills implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Drills.class);

    /** Every kind of drill run, as recorded. */
    public static final List<String> KINDS = List.of(DatabaseDrill.KIND, DatabaseDrill.PHYSICAL_KIND, "objects", "failover");

    private final BunkerConfig.DrillsConfig config;
    private final DrillRuns runs;
    private final DatabaseDrill database;
    private final ObjectDrill objects;
    private final FailoverDrill failover;
    private final Clock clock;
    private final String physical;
    private ScheduledExecutorService schedule;
    private final Map<String, Instant> lastSuccess = new java.util.concurrent.ConcurrentHashMap<>();

    /** The drills read copies through {@code replication}'s ledger and reads, and re-enqueue bad copies through its queue. */
    public Drills(BunkerConfig config, DataSource db, Map<String, Store> stores, Clock clock, MeterRegistry metrics, Replication replication) {
        this.config = config.drills();
        this.clock = clock;
        this.physical = physicalSource(config);
        this.runs = new DrillRuns(db);
        this.database = new DatabaseDrill(config, stores, runs, clock);
        this.objects = new ObjectDrill(config, stores, replication.ledger(), replication.jobs(), runs, clock);
        this.failover = new FailoverDrill(replication.ledger(), replication.reads(), config.replication().primary(), runs, clock);
        for (String kind : KINDS) {
            Gauge.builder("bunker_drill_last_success_timestamp_seconds", () -> {
                Instant t = lastSuccess.get(kind);
                return t == null ? 0 : t.getEpochSecond();
            }).description("when the last successful drill of this kind finished (0: never)").tag("kind", kind).register(metrics);
        }
    }

    public DrillRuns runs() { return runs; }

    public DatabaseDrill database() { return database; }

    public ObjectDrill objects() { return objects; }

    public FailoverDrill failover() { return failover; }

    /** Last success per kind (null: never), for status and the metrics. */
    public Map<String, Instant> lastSuccesses() throws SQLException {
        Map<String, Instant> out = new LinkedHashMap<>();
        for (String kind : KINDS) {
            Instant t = runs.lastSuccess(kind);
            out.put(kind, t);
            if (t != null) lastSuccess.put(kind, t);
        }
        return out;
    }

    /** Runs each drill whose last run (successful or not) is older than its schedule. */
    public void runDue() throws Exception {
        var d = config;
        Instant now = clock.instant();
        if (d.dbEnabled() && due("db", d.dbEvery(), now)) {
            DrillRuns.Run r = database.run(null, false);
            LOG.info("database drill {}: {}", r.ok() ? "passed" : "FAILED", r.log().replace('\n', ' '));
            if (physical != null) {
                r = database.runPhysical(physical);
                LOG.info("physical backup drill of {} {}: {}", physical, r.ok() ? "passed" : "FAILED", r.log().replace('\n', ' '));
            }
        }
        if (due("objects", d.objectsEvery(), now)) {
            DrillRuns.Run r = objects.run(d.sample());
            if (!r.ok()) LOG.warn("object drill FAILED: {}", r.log().replace('\n', ' '));
        }
        lastSuccesses();
    }

    /**
     * The source whose physical backups the daily drill restores too: drills.db.source if it has physical backups
     * scheduled, else the first source that has (null: none has).
     */
    public static String physicalSource(BunkerConfig c) {
        String chosen = c.drills().source();
        BunkerConfig.BackupSource s = chosen == null ? null : c.backups().sources().get(chosen);
        if (s != null && s.physicalEvery() != null) return chosen;
        return c.backups().sources().values().stream().filter(x -> x.physicalEvery() != null).map(BunkerConfig.BackupSource::name).findFirst().orElse(null);
    }

    private boolean due(String kind, Duration every, Instant now) throws SQLException {
        var last = runs.history(kind, 1);
        return last.isEmpty() || last.get(0).finishedAt().plus(every).isBefore(now);
    }

    public void start(Duration checkEvery) {
        schedule = Periodic.start("drills", Duration.ofSeconds(30), checkEvery, LOG, this::runDue);
    }

    @Override
    public void close() {
        if (schedule != null) schedule.shutdownNow();
    }
}
