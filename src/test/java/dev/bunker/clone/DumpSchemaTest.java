package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The schema read from what the real pg_dump prints, for the forms of table that hide columns from a line-by-line reading
 * (typed tables, a default spanning lines), and the catalog check behind it that refuses what the reading still misses.
 */
@Timeout(60)
class DumpSchemaTest {
    @Test
    void typedTablesAndMultiLineDefaultsAreReadWholeFromPgDump() throws Exception {
        DatabaseConfig db = TestDatabase.fresh();
        try (Connection c = DriverManager.getConnection(db.url(), db.user(), null); Statement s = c.createStatement()) {
            s.execute("""
                    create type person as (full_name text, "e""mail" text);
                    create table people of person (primary key (full_name));
                    create table people_plain of person;
                    create table notes (id int, bio text default E'x\\n) y\\n    fake_email text,', email text not null, "it's" text);
                    create function greet() returns text language plpgsql as $body$
                    begin
                        -- don't: a lone quote in a function body
                        return 'it''s $$ fine';
                    end $body$;
                    create table zz_after_function (id int, contact_email text, cost$x$ int);
                    """);
        }
        DumpSchema schema = DumpSchema.parse(pgDumpSchema(db), "");
        assertThat(schema.tables().get(new ColumnName.TableName("public", "people"))).extracting(col -> col.name().column() + " " + col.type() + " " + col.notNull())
                .containsExactly("full_name text true", "e\"mail text false");
        assertThat(schema.tables().get(new ColumnName.TableName("public", "people_plain"))).extracting(col -> col.name().column())
                .containsExactly("full_name", "e\"mail");
        assertThat(schema.tables().get(new ColumnName.TableName("public", "notes"))).as("nothing inside the default's string is a column")
                .extracting(col -> col.name().column()).containsExactly("id", "bio", "email", "it's");
        assertThat(schema.tables().get(new ColumnName.TableName("public", "zz_after_function"))).as("a quote in a function body hides nothing")
                .extracting(col -> col.name().column()).containsExactly("id", "contact_email", "cost$x$");
        try (Connection c = DriverManager.getConnection(db.url(), db.user(), null)) {
            assertThat(DumpSchema.unseenPersonal(c, schema)).isEmpty();
            // What a reading misses (here: nothing read at all) is found in the catalog.
            assertThat(DumpSchema.unseenPersonal(c, DumpSchema.parse("", ""))).extracting(Object::toString)
                    .contains("public.people.full_name", "public.notes.email", "public.people_plain.e\"mail");
        }
    }

    static String pgDumpSchema(DatabaseConfig db) throws Exception {
        String rest = db.url().substring("jdbc:postgresql://".length());
        String hostPort = rest.substring(0, rest.indexOf('/'));
        String name = rest.substring(rest.indexOf('/') + 1).split("\\?")[0];
        Process p = new ProcessBuilder("pg_dump", "-s", "-h", hostPort.split(":")[0], "-p", hostPort.split(":")[1], "-U", db.user(), name)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        return out;
    }
}
