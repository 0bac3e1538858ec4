package dev.bunker.cli;

import dev.bunker.Bunker;
import dev.bunker.config.BunkerConfig;
import dev.bunker.config.Durations;
import dev.bunker.config.Redact;
import dev.bunker.config.StoreConfig;
import dev.bunker.db.NodeRegistry;
import dev.bunker.store.StoreHealth;
import dev.bunker.Engine;
import dev.bunker.Periodic;
import java.time.Duration;
import dev.bunker.web.HttpApi;
import dev.bunker.web.Tokens;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bunker serve}: the main job. Opens everything, serves the HTTP API, runs until SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run Bunker: the HTTP API and the background jobs. Without a config file it runs everything "
                + "on this machine under ./bunker-data (embedded PostgreSQL 15, three local stores).")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);
    private static final int SHUTDOWN_GRACE_SECONDS = 2;

    @Mixin ConfigOptions options;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to serve on; wins over listen in the file (default 127.0.0.1:8080).")
    String listen;

    @Override
    public Integer call() throws Exception {
        BunkerConfig config = options.load(listen);
        System.err.println("bunker: config: " + config.source());
        System.err.println("bunker: data:   " + config.dataDir());
        Bunker bunker = Bunker.open(config, Clock.systemUTC());
        HttpApi api = null;
        ScheduledExecutorService timers = null;
        NodeRegistry node = new NodeRegistry(bunker.database());
        Engine engine = Engine.on(bunker);
        dev.bunker.pitr.WalStreams wal = null;
        dev.bunker.binlog.BinlogStreams binlogs = null;
        dev.bunker.history.Sampler sampler = null;
        dev.bunker.export.ExportSchedule exports = null;
        dev.bunker.clone.CloneSchedule clones = null;
        try {
            System.err.println("bunker: database: " + (bunker.database().embedded()
                    ? "embedded PostgreSQL 15 in " + config.dataDir().resolve("postgres") + " (" + bunker.database().url() + ", password in "
                    + config.dataDir().resolve(dev.bunker.db.EmbeddedPostgresServer.PASSWORD_FILE) + ")"
                    : Redact.databaseUrl(bunker.database().url())));
            for (StoreHealth.Result r : bunker.storeHealth(10_000)) {
                StoreConfig s = config.store(r.store());
                System.err.printf("bunker: store %-10s %-5s %-4s %-16s %s%n", s.name(), s instanceof StoreConfig.S3 ? "s3" : "local",
                        s.tier().name().toLowerCase(), s.lock() == null ? "" : "lock " + Durations.format(s.lock().period()),
                        r.ok() ? "ok" : "FAILING: " + r.error());
            }
            Tokens tokens = Tokens.load(config.api(), config.dataDir());
            tokens.generatedFile().ifPresent(f -> System.err.println("bunker: admin API token in " + f
                    + " (send it as Authorization: Bearer <token>; configure api.tokens to replace it)"));
            dev.bunker.history.Series history = new dev.bunker.history.Series(bunker.database().dataSource());
            api = WebApi.open(engine, tokens, history);
            String nodeName = node.id().toString().substring(0, 8);
            sampler = new dev.bunker.history.Sampler(history, () -> engine.figures(nodeName), bunker.clock(), config.dashboard().sampleEvery(),
                    config.dashboard().history());
            var walPush = Engine.walPush(bunker);
            if (walPush.isPresent()) api.add(dev.bunker.web.WalRoutes.of(walPush.get()));
            api.start();
            sampler.start();
            engine.replication().workers().start();
            engine.replication().status().start(Duration.ofSeconds(5));
            engine.lifecycle().start(config.lifecycle().every());
            engine.backups().start(Duration.ofMinutes(1));
            engine.drills().start(Duration.ofMinutes(1));
            engine.alerts().start();
            exports = new dev.bunker.export.ExportSchedule(engine.exports(), config.exports(), bunker.clock());
            exports.start(Duration.ofMinutes(1));
            if (exports.enabled()) {
                System.err.println("bunker: exports of every subscription every " + Durations.format(config.exports().every()) + " to " + config.exports().to() + "/NAME");
            }
            clones = new dev.bunker.clone.CloneSchedule(config.clones(), engine.backups().restore(), config.backups().pgBin(),
                    bunker.database().dataSource(), bunker.clock());
            clones.start(Duration.ofMinutes(1));
            for (var job : config.clones().jobs().values()) {
                System.err.println("bunker: clone " + job.name() + " of " + job.source() + "'s newest backup into " + Redact.databaseUrl(job.target())
                        + " every " + Durations.format(job.every()) + ", scrubbed by " + job.scrub());
            }
            if (config.backups().enabled()) {
                System.err.println("bunker: backups of " + config.backups().sources().keySet() + " to " + config.backups().stores()
                        + ": dump every " + Durations.format(config.backups().dump().every()) + ", snapshot every "
                        + Durations.format(config.backups().snapshot().every()));
            }
            wal = Engine.walStreams(bunker);
            if (wal.enabled()) {
                wal.registerMetrics(bunker.metrics(), bunker.clock());
                wal.start();
                wal.startPruning(new dev.bunker.pitr.PruneWal(config.backups(), bunker.stores(), engine.backups().catalog(),
                        dev.bunker.backup.ManifestTrust.of(config.backups().signers(), config.dataDir())), Duration.ofHours(1));
                for (var s : config.backups().sources().values()) {
                    if (s.pitr() != null && s.pitr().archive()) {
                        System.err.println("bunker: WAL of " + s.name() + " taken from its archive_command at " + api.uri() + "/v1/wal/" + s.name()
                                + "/ (bin/bunker wal push, with a wal-push token of " + s.name() + ") into " + config.backups().stores());
                    } else if (s.pitr() != null) {
                        System.err.println("bunker: WAL of " + s.name() + " streamed through slot " + s.pitr().slot() + " to " + config.backups().stores()
                                + ", stored at least every " + Durations.format(s.pitr().flushEvery()));
                    }
                }
            }
            binlogs = engine.binlogStreams();
            if (binlogs.enabled()) {
                binlogs.registerMetrics(bunker.metrics(), bunker.clock());
                binlogs.start();
                for (var s : config.backups().sources().values()) {
                    if (s.binlog() != null) {
                        System.err.println("bunker: binary log of " + s.name() + " streamed to " + config.backups().stores() + ", stored at least every "
                                + Durations.format(s.binlog().flushEvery()));
                    }
                }
            }
            node.register(Version.current(), api.uri().toString());
            timers = Periodic.start("heartbeat", Duration.ofSeconds(15), Duration.ofSeconds(15), LOG, node::heartbeat);
            System.err.println("bunker: serving " + api.uri() + " (health: " + api.uri() + "/healthz; dashboard: " + api.uri() + "/, log in with an API token)");
        } catch (RuntimeException | java.io.IOException e) {
            if (api != null) api.stop(0);
            if (sampler != null) sampler.close();
            if (exports != null) exports.close();
            if (clones != null) clones.close();
            if (wal != null) wal.close();
            if (binlogs != null) binlogs.close();
            engine.close();
            bunker.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        HttpApi running = api;
        ScheduledExecutorService heartbeats = timers;
        dev.bunker.pitr.WalStreams streams = wal;
        dev.bunker.binlog.BinlogStreams binlogStreams = binlogs;
        dev.bunker.history.Sampler history = sampler;
        dev.bunker.export.ExportSchedule exportSchedule = exports;
        dev.bunker.clone.CloneSchedule cloneSchedule = clones;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("bunker: stopping");
            if (heartbeats != null) heartbeats.shutdownNow();
            running.stop(SHUTDOWN_GRACE_SECONDS);
            history.close();
            exportSchedule.close(); // a delivery cut short here is resumed by the next run
            cloneSchedule.close(); // a clone cut short drops its private database (its shutdown hook)
            streams.close(); // each stream stores what it holds before its stores close
            binlogStreams.close();
            engine.close(); // replication jobs in hand get 2 s; unfinished ones are claimed again after their lease
            try {
                node.deregister();
            } catch (Exception e) {
                LOG.warn("could not remove this process from bunker.nodes: {}", e.getMessage());
            }
            bunker.close();
            System.err.println("bunker: stopped");
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }
}
