package dev.bunker.testing;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** An app's database to back up (users and events, a read-only backup role) and an age key to encrypt to, made with the real age-keygen. */
public final class AppDatabases {
    /** The database, the read-only role backups connect as, and the age key file with its public key. */
    public record App(DatabaseConfig db, String role) {}

    private AppDatabases() {}

    /** {@code users} rows and {@code events} rows, the events ending now (so a freshness check passes). */
    public static App create(int users, int events) throws Exception {
        DatabaseConfig app = TestDatabase.fresh();
        String role = "backup_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(app.url(), app.user(), null); Statement s = c.createStatement()) {
            s.execute("create table users (id serial primary key, email text not null)");
            s.execute("create table events (id bigserial primary key, user_id int, created_at timestamptz not null)");
            s.execute("insert into users (email) select 'u' || g || '@example.com' from generate_series(1, " + users + ") g");
            s.execute("insert into events (user_id, created_at) select 1 + g % " + users + ", now() - g * interval '1 second' from generate_series(1, "
                    + events + ") g");
            s.execute("create role " + role + " login");
            s.execute("grant pg_read_all_data to " + role);
        }
        return new App(app, role);
    }

    /** Writes a new age key to {@code file} with age-keygen and returns its public key (age1...). */
    public static String ageKey(Path file) throws Exception {
        Process p = new ProcessBuilder("age-keygen", "-o", file.toString()).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("age-keygen failed: " + new String(p.getInputStream().readAllBytes()));
        return Files.readAllLines(file).stream().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow().substring(14);
    }
}
