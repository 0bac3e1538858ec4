package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.testing.TestDatabase;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;

/** COPY's text format against a real PostgreSQL: what the server prints is decoded exactly, what Bunker writes reads back exactly. */
@Timeout(60)
class CopyTextTest {
    /** Odd values: COPY's own markers, every escaped control character, backslashes, quotes, non-ASCII and surrogate pairs. */
    static List<String> oddValues(long seed, int n) {
        String[] pieces = {"\\", "\\N", "\\.", ".", "\t", "\n", "\r", "\b", "\f", "\u000b", "\u0001", "\u007f", "'", "\"", ",", " ", "a", "Z",
                "é", "例え", "😀", "\\x41", "\\101", "N", "\\\\"};
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(List.of("", "\\N", "\\.", " ", "\\", "\t\t"));
        while (out.size() < n) {
            StringBuilder sb = new StringBuilder();
            for (int i = r.nextInt(8); i >= 0; i--) sb.append(pieces[r.nextInt(pieces.length)]);
            out.add(sb.toString());
        }
        return out;
    }

    @Test
    void valuesWrittenAndReadThroughTheServerStayExactlyTheSame() throws Exception {
        DatabaseConfig db = TestDatabase.fresh();
        List<String> values = oddValues(42, 2_000);
        try (Connection c = DriverManager.getConnection(db.url(), db.user(), null); Statement s = c.createStatement()) {
            s.execute("create table odd (i int, v text, w text)");
            StringBuilder rows = new StringBuilder();
            for (int i = 0; i < values.size(); i++) { // what Bunker writes: one row per value, and a NULL every 10th row
                rows.append(i).append('\t').append(CopyText.encode(values.get(i))).append('\t').append(CopyText.encode(i % 10 == 0 ? null : "x")).append('\n');
            }
            byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
            long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY odd (i, v, w) FROM STDIN", new java.io.ByteArrayInputStream(bytes));
            assertThat(copied).isEqualTo(values.size());
            try (ResultSet rs = s.executeQuery("select i, v, w from odd order by i")) {
                for (int i = 0; i < values.size(); i++) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(2)).as("value %d", i).isEqualTo(values.get(i));
                    assertThat(rs.getString(3)).isEqualTo(i % 10 == 0 ? null : "x");
                }
            }
            // What the server prints (as pg_dump's data does) is split and decoded to the same values.
            StringWriter printed = new StringWriter();
            c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (select i, v, w from odd order by i) TO STDOUT", printed);
            String[] lines = printed.toString().split("\n", -1);
            assertThat(lines).hasSize(values.size() + 1); // the last newline
            for (int i = 0; i < values.size(); i++) {
                String[] f = CopyText.fields(lines[i], 3);
                assertThat(CopyText.decode(f[1])).as("value %d printed as %s", i, f[1]).isEqualTo(values.get(i));
                assertThat(CopyText.decode(f[2])).isEqualTo(i % 10 == 0 ? null : "x");
            }
        }
    }

    @Test
    void headersAreParsedWithQuotedNamesAndForeignLinesAreNot() throws Exception {
        CopyText.Header h = CopyText.header("COPY public.\"we ird\" (id, \"Na, me\", \"q\"\"uote\", c) FROM stdin;");
        assertThat(h.table()).isEqualTo(new ColumnName.TableName("public", "we ird"));
        assertThat(h.columns()).containsExactly("id", "Na, me", "q\"uote", "c");
        assertThat(CopyText.header("COPY public.t FROM stdin;")).isNull();
        assertThat(CopyText.header("SET client_encoding = 'UTF8';")).isNull();
        assertThatThrownBy(() -> CopyText.fields("a\tb\tc", 2)).isInstanceOf(IOException.class).hasMessageContaining("more than the 2 fields");
        assertThatThrownBy(() -> CopyText.fields("a", 2)).isInstanceOf(IOException.class).hasMessageContaining("1 fields where its header names 2");
        assertThatThrownBy(() -> CopyText.decode("\\303\\251")).isInstanceOf(IOException.class).hasMessageContaining("only UTF-8 text");
    }
}
