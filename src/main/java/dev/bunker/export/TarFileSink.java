package dev.bunker.export;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A plain tar file that can be resumed: each entry is written by a tar stream of its own onto the file, so the file
 * ends at an entry boundary after every entry. {@link #rollBack} cuts a failed entry off; {@link #checkpoint} makes
 * the file durable up to the last whole entry, and a later run opens it at that offset and goes on.
 */
final class TarFileSink implements ArchiveSink {
    private final FileChannel file;
    private final BackgroundDigest digest = new BackgroundDigest();
    private final Appender out = new Appender();
    private long position;
    private long entryStart;

    /** Opens {@code path}, keeping its first {@code resumeAt} bytes (0: a new file), which are read once for the SHA-256. */
    TarFileSink(Path path, long resumeAt) throws IOException {
        file = ArchiveSink.openFile(path, resumeAt == 0);
        try {
            if (file.size() < resumeAt) {
                throw new IOException(path + " holds " + file.size() + " bytes, less than the " + resumeAt + " recorded as durable; it cannot be resumed");
            }
            file.truncate(resumeAt);
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            file.position(0);
            while (file.position() < resumeAt) {
                buffer.clear();
                if (file.read(buffer) < 0) break;
                digest.update(buffer.array(), 0, buffer.position());
            }
            position = resumeAt;
            file.position(position);
        } catch (IOException | RuntimeException e) {
            file.close();
            digest.close();
            throw e;
        }
    }

    @Override
    public void entry(String path, long size, Instant modified, InputStream body) throws IOException {
        entryStart = position;
        digest.mark();
        TarArchiveOutputStream tar = ArchiveSink.tar(out);
        tar.putArchiveEntry(ArchiveSink.tarEntry(path, size, modified));
        ArchiveSink.copy(body, tar, size, path);
        tar.closeArchiveEntry();
        tar.flush(); // not closed: closing would end the archive; the next entry's stream goes on from here
        out.flush();
    }

    @Override
    public boolean rollBack() throws IOException {
        out.discard();
        file.truncate(entryStart);
        file.position(entryStart);
        position = entryStart;
        digest.reset();
        return true;
    }

    @Override
    public long checkpoint() throws IOException {
        file.force(false);
        return position;
    }

    @Override
    public String finish() throws IOException {
        TarArchiveOutputStream tar = ArchiveSink.tar(out);
        tar.finish(); // the two zero blocks that end a tar
        tar.flush();
        out.flush();
        file.force(true);
        return digest.finish();
    }

    @Override
    public void close() throws IOException {
        digest.close();
        file.close();
    }

    /**
     * Writes at the end of the file through a buffer (tar streams write 512-byte blocks), counting and hashing what
     * reaches the file; {@link #discard} drops what the buffer holds.
     */
    private final class Appender extends OutputStream {
        private final byte[] buffer = new byte[1 << 20];
        private int count;

        @Override
        public void write(int b) throws IOException {
            if (count == buffer.length) flush();
            buffer[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (count == buffer.length) flush();
                int n = Math.min(len, buffer.length - count);
                System.arraycopy(b, off, buffer, count, n);
                count += n;
                off += n;
                len -= n;
            }
        }

        @Override
        public void flush() throws IOException {
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, count);
            while (bytes.hasRemaining()) file.write(bytes);
            digest.update(buffer, 0, count);
            position += count;
            count = 0;
        }

        void discard() {
            count = 0;
        }
    }
}
