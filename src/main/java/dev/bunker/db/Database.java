package dev.bunker.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bunker.config.BunkerConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import dev.bunker.store.Sha256;
import org.flywaydb.core.Flyway;

/** Bunker's own PostgreSQL: a connection pool on the {@code bunker} schema, migrated by Flyway on open. */
public final class Database implements AutoCloseable {
    public static final String SCHEMA = "bunker";

    private final HikariDataSource pool;
    private final EmbeddedPostgresServer embedded;
    private final String url;

    private Database(HikariDataSource pool, EmbeddedPostgresServer embedded, String url) {
        this.pool = pool;
        this.embedded = embedded;
        this.url = url;
    }

    /** Connects (starting the embedded server if none is configured) and migrates the schema. */
    public static Database open(BunkerConfig.DatabaseConfig config, Path dataDir) {
        EmbeddedPostgresServer embedded = null;
        String url = config.url();
        String user = config.user();
        String password = config.password();
        if (config.embedded()) {
            embedded = EmbeddedPostgresServer.startOrAttach(dataDir.resolve("postgres"));
            url = embedded.jdbcUrl();
            user = embedded.user();
            password = embedded.password();
        }
        try {
            HikariConfig hc = new HikariConfig();
            hc.setJdbcUrl(url);
            if (user != null) hc.setUsername(user);
            if (password != null) hc.setPassword(password);
            hc.setMaximumPoolSize(config.poolSize());
            hc.setMinimumIdle(1);
            hc.setPoolName("bunker");
            hc.setConnectionTimeout(10_000);
            hc.setInitializationFailTimeout(10_000);
            hc.addDataSourceProperty("ApplicationName", "bunker");
            hc.addDataSourceProperty("currentSchema", SCHEMA);
            HikariDataSource pool = new HikariDataSource(hc);
            try {
                migrate(pool);
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
            return new Database(pool, embedded, url);
        } catch (RuntimeException e) {
            if (embedded != null) embedded.close();
            throw new DatabaseUnavailableException("unable to use the database at " + dev.bunker.config.Redact.databaseUrl(url) + ": " + rootMessage(e)
                    + (config.embedded() ? "" : "; check database.url, user and password in the config"), e);
        }
    }

    /** The newest migration in {@code db/migration} (a test holds it to the files): a schema at it needs no Flyway run. */
    static final int LATEST_MIGRATION = 23;

    static void migrate(DataSource ds) {
        int applied = appliedVersion(ds);
        if (applied == LATEST_MIGRATION) return; // every command opens the database: Flyway's scan and validation cost each about 0.4 s
        if (applied > LATEST_MIGRATION) { // Flyway would go on: an older Bunker would then misread a ledger a newer one changed
            throw new IllegalStateException("the ledger's schema is at version " + applied + ", newer than this Bunker's (" + LATEST_MIGRATION
                    + "): a newer Bunker upgraded it; run that version (every process sharing the database must be the same or newer)");
        }
        Flyway.configure()
                .dataSource(ds)
                .schemas(SCHEMA)
                .createSchemas(true)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    /** The newest migration the schema's history holds as applied successfully; 0 when there is none yet. */
    static int appliedVersion(DataSource ds) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("select max(version::int) from " + SCHEMA + ".flyway_schema_history where success")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            return 0; // a new database, or one Flyway has not set up yet: it will
        }
    }

    public DataSource dataSource() { return pool; }

    public Connection connection() throws SQLException { return pool.getConnection(); }

    /** The JDBC URL in use (it never contains the password: that is passed separately). */
    public String url() { return url; }

    public boolean embedded() { return embedded != null; }

    /**
     * A read-only connection URL to this database, for backing up Bunker's own ledger (backup source
     * {@code url: self}). Only for the embedded server, where Bunker creates the role itself: with an
     * external database, configure a source with a read-only role of your own.
     */
    public String selfBackupUrl() throws SQLException {
        if (embedded == null) {
            throw new SQLException("backup source url: self works only with the embedded database; for " + url
                    + " configure a source with a read-only role (create role backup login; grant pg_read_all_data to backup;)");
        }
        // The role's password is derived from the superuser's, so every process computes the same one and no second secret is kept.
        String password = Sha256.hexOf((embedded.password() + "/bunker_backup").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("do $$ begin create role bunker_backup login; exception when duplicate_object then null; end $$");
            s.execute("alter role bunker_backup password '" + password + "'");
            s.execute("grant pg_read_all_data to bunker_backup");
        }
        return url.replace("jdbc:postgresql://", "postgresql://bunker_backup:" + password + "@");
    }

    /** Runs a trivial query; throws if the database does not answer. */
    public void ping() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(5);
            s.execute("select 1");
        }
    }

    @Override
    public void close() {
        pool.close();
        if (embedded != null) embedded.close();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
