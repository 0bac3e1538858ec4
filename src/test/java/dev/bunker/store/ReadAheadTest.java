package dev.bunker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ReadAheadTest {

    @Test
    void everyByteArrivesInOrderWhateverTheReadSizes() throws Exception {
        byte[] data = new byte[(20 << 20) + 12_345];
        new Random(7).nextBytes(data);
        Random sizes = new Random(11);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (ReadAhead pipe = new ReadAhead(new ByteArrayInputStream(data), "test-read")) {
            InputStream in = pipe.stream();
            while (true) {
                byte[] buf = new byte[1 + sizes.nextInt(3 << 20)];
                int n = in.read(buf, 0, buf.length);
                if (n < 0) break;
                got.write(buf, 0, n);
            }
            assertThat(in.read()).isEqualTo(-1);
            assertThat(pipe.failure()).isNull();
        }
        assertThat(got.toByteArray()).isEqualTo(data);
    }

    @Test
    void aFailureUpstreamReachesTheReaderInsteadOfAnEnd() throws Exception {
        InputStream failing = new SequenceInputStream(new ByteArrayInputStream(new byte[5 << 20]), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("age: chunk 6 failed authentication");
            }
        });
        try (ReadAhead pipe = new ReadAhead(failing, "test-read")) {
            InputStream in = pipe.stream();
            assertThatThrownBy(() -> in.transferTo(OutputStreamSink.INSTANCE))
                    .isInstanceOf(IOException.class).hasMessageContaining("failed authentication");
            assertThat(OutputStreamSink.INSTANCE.count).isLessThanOrEqualTo(5 << 20);
        }
    }

    @Test
    void closingEarlyStopsTheDecryptingThreadWithoutBlamingTheData() throws Exception {
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return len;
            }
        };
        ReadAhead pipe = new ReadAhead(endless, "test-read");
        assertThat(pipe.stream().readNBytes(3 << 20)).hasSize(3 << 20);
        pipe.close(); // the thread is blocked on a full queue here: close must not hang
        assertThat(pipe.failure()).isNull();
    }

    /** Counts what it is given and keeps nothing. */
    private static final class OutputStreamSink extends java.io.OutputStream {
        static final OutputStreamSink INSTANCE = new OutputStreamSink();
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
