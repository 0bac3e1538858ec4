package dev.bunker.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.UncheckedIOException;
import java.io.IOException;

/** Prints a loaded configuration back as YAML, with every secret masked, for {@code bunker config check}. */
public final class EffectiveConfig {
    static final String MASK = Redact.MASK;

    private EffectiveConfig() {}

    public static ObjectNode toTree(BunkerConfig c) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("source", c.source());
        root.put("data-dir", c.dataDir().toString());
        root.put("listen", c.listen().toString());
        ObjectNode db = root.putObject("database");
        if (c.database().embedded()) {
            db.put("embedded", true);
            db.put("data", c.dataDir().resolve("postgres").toString());
        } else {
            db.put("url", Redact.databaseUrl(c.database().url()));
            if (c.database().user() != null) db.put("user", c.database().user());
            if (c.database().password() != null) db.put("password", MASK);
        }
        db.put("pool-size", c.database().poolSize());
        ObjectNode stores = root.putObject("stores");
        for (StoreConfig s : c.stores().values()) {
            ObjectNode n = stores.putObject(s.name());
            if (s instanceof StoreConfig.Local l) {
                n.put("type", "local");
                n.put("path", l.path().toString());
            } else if (s instanceof StoreConfig.S3 s3) {
                {
                    n.put("type", "s3");
                    n.put("endpoint", s3.endpoint() == null ? "(AWS default for the region)" : s3.endpoint().toString());
                    n.put("region", s3.region());
                    n.put("bucket", s3.bucket());
                    if (!s3.prefix().isEmpty()) n.put("prefix", s3.prefix());
                    n.put("path-style", s3.pathStyle());
                    n.put("access-key", s3.accessKey() == null ? "(AWS default credential chain)" : MASK);
                    if (s3.secretKey() != null) n.put("secret-key", MASK);
                    if (s3.storageClass() != null) n.put("storage-class", s3.storageClass());
                    n.put("part-size", s3.partSize());
                    n.put("max-connections", s3.maxConnections());
                    if (s3.cleanupAccessKey() != null) {
                        n.put("cleanup-access-key", MASK);
                        n.put("cleanup-secret-key", MASK);
                    }
                }
            }
            n.put("tier", s.tier().name().toLowerCase());
            if (s.lock() != null) {
                ObjectNode lock = n.putObject("lock");
                lock.put("mode", "compliance");
                lock.put("period", Durations.format(s.lock().period()));
            }
        }
        ObjectNode rep = root.putObject("replication");
        rep.put("primary", c.replication().primary());
        c.replication().targets().forEach(rep.putArray("targets")::add);
        ObjectNode policies = rep.putObject("policies");
        for (BunkerConfig.Policy p : c.replication().policies()) {
            ObjectNode pn = policies.putObject(p.name());
            pn.put("prefix", p.prefix());
            p.targets().forEach(pn.putArray("targets")::add);
        }
        rep.put("workers", c.replication().workers());
        rep.put("lease", Durations.format(c.replication().lease()));
        rep.put("poll", Durations.format(c.replication().poll()));
        rep.put("max-attempts", c.replication().maxAttempts());
        rep.put("retry-initial", Durations.format(c.replication().retryInitial()));
        rep.put("retry-max", Durations.format(c.replication().retryMax()));
        rep.put("breaker-failures", c.replication().breakerFailures());
        rep.put("breaker-cooldown", Durations.format(c.replication().breakerCooldown()));
        ObjectNode batch = rep.putObject("batch");
        batch.put("claim", c.replication().batching().claim());
        batch.put("commit-copies", c.replication().batching().commitCopies());
        batch.put("commit-wait", Durations.format(c.replication().batching().commitWait()));
        ObjectNode lc = root.putObject("lifecycle");
        lc.put("trash", Durations.format(c.lifecycle().trash()));
        lc.put("cleanup-after", Durations.format(c.lifecycle().cleanupAfter()));
        lc.put("brake", (Math.round(c.lifecycle().brake() * 10000) / 100.0) + "%");
        lc.put("every", Durations.format(c.lifecycle().every()));
        BunkerConfig.BackupsConfig b = c.backups();
        ObjectNode bk = root.putObject("backups");
        b.recipients().forEach(bk.putArray("recipients")::add);
        b.stores().forEach(bk.putArray("stores")::add);
        ObjectNode srcs = bk.putObject("sources");
        for (BunkerConfig.BackupSource s : b.sources().values()) {
            ObjectNode sn = srcs.putObject(s.name());
            sn.put("url", Redact.databaseUrl(s.url()));
            if (s.user() != null) sn.put("user", s.user());
            if (s.password() != null) sn.put("password", MASK);
            if (s.pitr() != null) {
                ObjectNode pn = sn.putObject("pitr");
                pn.put("wal", s.pitr().archive() ? "archive" : "stream");
                if (s.pitr().streamed()) {
                    pn.put("slot", s.pitr().slot());
                    pn.put("flush-every", Durations.format(s.pitr().flushEvery()));
                }
                pn.put("base-every", Durations.format(s.pitr().baseEvery()));
                BunkerConfig.BackupKind own = b.kind(s.name(), "base"); // what this source's base backups and WAL get
                pn.put("keep", Durations.format(own.keep()));
                pn.put("lock", own.lock() == null ? "none" : Durations.format(own.lock()));
            }
            if (s.binlog() != null) {
                ObjectNode bn = sn.putObject("binlog");
                bn.put("stream", true);
                bn.put("flush-every", Durations.format(s.binlog().flushEvery()));
                bn.put("keep", Durations.format(s.binlog().keep()));
            }
            if (s.physicalEvery() != null) sn.putObject("physical").put("every", Durations.format(s.physicalEvery()));
            if (s.allDatabases()) sn.put("all-databases", true);
        }
        for (BunkerConfig.BackupKind k : new BunkerConfig.BackupKind[] {b.dump(), b.snapshot(), b.base()}) {
            ObjectNode kn = bk.putObject(k.name());
            if (k != b.base()) kn.put("every", Durations.format(k.every())); // base backups: on demand, or every pitr.base-every
            kn.put("keep", Durations.format(k.keep()));
            kn.put("lock", k.lock() == null ? "none" : Durations.format(k.lock()));
            kn.put("zstd-level", k.zstdLevel());
            kn.put("zstd-workers", k.zstdWorkers());
        }
        if (b.pgBin() != null) bk.put("pg-bin", b.pgBin().toString());
        if (b.mariaDbBin() != null) bk.put("mariadb-bin", b.mariaDbBin().toString());
        ObjectNode dr = root.putObject("drills");
        ObjectNode drdb = dr.putObject("db");
        drdb.put("every", Durations.format(c.drills().dbEvery()));
        drdb.put("identity", c.drills().identity() == null ? "(none: database drill off)" : c.drills().identity().toString());
        if (c.drills().source() != null) drdb.put("source", c.drills().source());
        if (c.drills().freshnessColumn() != null) drdb.put("freshness-column", c.drills().freshnessColumn());
        drdb.put("rpo", Durations.format(c.drills().rpo()));
        c.drills().checks().forEach(drdb.putArray("checks")::add);
        dr.putObject("objects").put("every", Durations.format(c.drills().objectsEvery())).put("sample", c.drills().sample());
        ObjectNode dash = root.putObject("dashboard");
        dash.put("sample-every", Durations.format(c.dashboard().sampleEvery()));
        dash.put("history", Durations.format(c.dashboard().history()));
        dash.put("session", Durations.format(c.dashboard().session()));
        dash.put("audit-every", c.dashboard().auditEvery() == null ? "off" : Durations.format(c.dashboard().auditEvery()));
        ObjectNode ex = root.putObject("exports");
        ex.put("every", c.exports().every() == null ? "off" : Durations.format(c.exports().every()));
        if (c.exports().to() != null) ex.put("to", c.exports().to());
        ObjectNode cl = root.putObject("clones");
        for (BunkerConfig.CloneJob j : c.clones().jobs().values()) {
            ObjectNode jn = cl.putObject(j.name());
            jn.put("source", j.source());
            jn.put("target", Redact.databaseUrl(j.target()));
            if (j.password() != null) jn.put("password", MASK);
            jn.put("scrub", j.scrub().toString());
            jn.put("identity", j.identity().toString());
            jn.put("every", Durations.format(j.every()));
            j.grantTo().forEach(r -> jn.withArray("grant-to").add(r));
        }
        ObjectNode al = root.putObject("alerts");
        c.alerts().webhooks().forEach(w -> al.withArray("webhooks").add(Redact.webhook(w)));
        al.put("drill-stale-after", Durations.format(c.alerts().drillStaleAfter()));
        al.put("backup-stale-after", c.alerts().backupStaleFactor() + "x");
        al.put("replication-lag-above", Durations.format(c.alerts().replicationLagAbove()));
        al.put("failed-jobs-above", c.alerts().failedJobsAbove());
        al.put("store-unhealthy-for", Durations.format(c.alerts().storeUnhealthyFor()));
        al.put("every", Durations.format(c.alerts().every()));
        ObjectNode api = root.putObject("api").putObject("tokens");
        c.api().tokens().values().forEach(t -> {
            var o = api.putObject(t.name()).put("scope", t.scope().label());
            if (t.source() != null) o.put("source", t.source());
            o.put("sha256", t.sha256());
        });
        return root;
    }

    public static String toYaml(BunkerConfig c) {
        try {
            return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)).writeValueAsString(toTree(c));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
