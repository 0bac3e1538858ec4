package dev.bunker.clone;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A table's COPY block kept in a file of the clone's private folder (beside the decrypted dump it comes from, removed with
 * it), for a table with a fake or shuffled column: its pools and shuffles are known only once every such table was read.
 */
record Spool(Path file, CopyText.Header header) {
    /** What is done with each row as it is spooled. */
    @FunctionalInterface
    interface Seen {
        void row(String line) throws IOException;
    }

    /** Writes {@code rows} to {@code file}, one data line per line, handing each to {@code seen} too. */
    static Spool write(Path file, CopyText.Header header, CopyText.Rows rows, Seen seen) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (String line = rows.next(); line != null; line = rows.next()) {
                seen.row(line);
                out.write(line);
                out.write('\n');
            }
        }
        return new Spool(file, header);
    }

    /** The spooled rows, from the first. */
    Reader read() throws IOException {
        return new Reader(Files.newBufferedReader(file, StandardCharsets.UTF_8));
    }

    /** A pass over the spooled rows; null at the end. */
    static final class Reader implements CopyText.Rows, AutoCloseable {
        private final BufferedReader in;

        private Reader(BufferedReader in) {
            this.in = in;
        }

        @Override
        public String next() throws IOException { return in.readLine(); }

        @Override
        public void close() throws IOException { in.close(); }
    }
}
