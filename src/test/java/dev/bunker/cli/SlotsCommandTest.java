package dev.bunker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication slots left behind, from the CLI against a real PostgreSQL server that two sources (two databases of one
 * cluster) stream from: `db slots` and `db list --source` name the slot no source uses and how to drop it, never a slot
 * another source streams through, and `db slots --drop` drops only the one left behind.
 */
@Timeout(180)
class SlotsCommandTest {
    @TempDir Path dir;
    EmbeddedPostgres server;
    Path config;

    @BeforeEach
    void setUp() throws Exception {
        server = EmbeddedPostgres.builder().start();
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("create role streamer login replication");
            s.execute("create database billing");
            for (String slot : List.of("bunker_app", "bunker_billing", "bunker_old", "other_tool")) {
                s.execute("select pg_create_physical_replication_slot('" + slot + "', true)");
            }
        }
        String url = "postgresql://streamer@127.0.0.1:" + server.getPort();
        config = dir.resolve("bunker.yaml");
        Files.writeString(config, "backups: {recipients: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq], stores: [vault], sources: {"
                + "app: {url: \"" + url + "/postgres\", pitr: {}}, billing: {url: \"" + url + "/billing\", pitr: {slot: bunker_billing}}}}\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) server.close();
    }

    List<String> slotsOnTheServer() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select slot_name from pg_replication_slots order by 1")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    CliTest.Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", config.toString(), "--data-dir", dir.resolve("data").toString()));
        return CliTest.run(all.toArray(String[]::new));
    }

    @Test
    void theSlotLeftBehindIsNamedWithItsDropCommandAndOnlyItCanBeDropped() throws Exception {
        CliTest.Result slots = run("db", "slots");
        assertThat(slots.exit()).as(slots.err()).isZero();
        List<String> lines = slots.out().lines().toList();
        assertThat(lines).filteredOn(l -> l.contains("bunker_old")).singleElement().asString()
                .contains("LEFT BEHIND").contains("bunker db slots --source app --drop bunker_old");
        assertThat(lines).filteredOn(l -> l.contains("bunker_billing")).as("billing's own slot, on the server app shares").singleElement().asString()
                .contains("streamed by Bunker");
        assertThat(lines).filteredOn(l -> l.contains("bunker_app")).singleElement().asString().contains("streamed by Bunker");
        assertThat(slots.out()).doesNotContain("other_tool").contains("3 slot(s)");

        CliTest.Result list = run("db", "list", "--source", "app");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).contains("0 backup(s)").contains("replication slot bunker_old on app's server")
                .contains("bunker db slots --source app --drop bunker_old").doesNotContain("slot bunker_billing").doesNotContain("slot bunker_app");
        CliTest.Result unknown = run("db", "list", "--source", "nosuch");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("no backup source \"nosuch\"");

        for (String inUse : List.of("bunker_app", "bunker_billing")) {
            CliTest.Result refused = run("db", "slots", "--source", "app", "--drop", inUse);
            assertThat(refused.exit()).as(inUse).isEqualTo(2);
            assertThat(refused.err()).contains("slot " + inUse + " is the one backups.sources.").contains("pitr streams through");
        }
        CliTest.Result notOurs = run("db", "slots", "--source", "app", "--drop", "other_tool");
        assertThat(notOurs.exit()).isEqualTo(2);
        assertThat(notOurs.err()).contains("has no Bunker replication slot named other_tool");
        assertThat(slotsOnTheServer()).containsExactly("bunker_app", "bunker_billing", "bunker_old", "other_tool");

        CliTest.Result dropped = run("db", "slots", "--source", "app", "--drop", "bunker_old");
        assertThat(dropped.exit()).as(dropped.err()).isZero();
        assertThat(dropped.out()).contains("dropped replication slot bunker_old on app");
        assertThat(slotsOnTheServer()).containsExactly("bunker_app", "bunker_billing", "other_tool");
        assertThat(run("db", "list", "--source", "app").out()).doesNotContain("LEFT BEHIND");
    }
}
