package dev.bunker.export;

import dev.bunker.backup.AgeCrypto;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.Zip64Mode;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * A zip, or an archive encrypted to the owner's age key, written as one stream from the start: it cannot be cut back
 * to an entry boundary, so a failed entry fails the run and the next run writes the file again.
 */
final class StreamSink implements ArchiveSink {
    private final java.nio.channels.FileChannel file;
    private final BackgroundDigest digest = new BackgroundDigest();
    private final OutputStream encrypted; // null when not encrypted
    private final TarArchiveOutputStream tar;
    private final ZipArchiveOutputStream zip;

    StreamSink(Path path, boolean zipFormat, String recipient) throws IOException {
        file = ArchiveSink.openFile(path, true); // what an earlier try left is replaced
        OutputStream out = new BufferedOutputStream(new FilterOutputStream(java.nio.channels.Channels.newOutputStream(file)) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                digest.update(b, off, len);
                out.write(b, off, len);
            }

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void close() throws IOException {
                flush(); // the file stays open to be synced, then closed by StreamSink.close
            }
        }, 1 << 20);
        encrypted = recipient == null ? null : AgeCrypto.encrypting(out, List.of(recipient));
        OutputStream plain = encrypted == null ? out : new BufferedOutputStream(encrypted, 1 << 20);
        if (zipFormat) {
            zip = new ZipArchiveOutputStream(plain);
            zip.setUseZip64(Zip64Mode.AsNeeded);
            zip.setEncoding("UTF-8");
            tar = null;
        } else {
            tar = ArchiveSink.tar(plain);
            zip = null;
        }
    }

    @Override
    public void entry(String path, long size, Instant modified, InputStream body) throws IOException {
        if (zip != null) {
            ZipArchiveEntry e = new ZipArchiveEntry(path);
            e.setSize(size);
            if (modified != null) e.setTime(modified.toEpochMilli());
            zip.putArchiveEntry(e);
            ArchiveSink.copy(body, zip, size, path);
            zip.closeArchiveEntry();
        } else {
            tar.putArchiveEntry(ArchiveSink.tarEntry(path, size, modified));
            ArchiveSink.copy(body, tar, size, path);
            tar.closeArchiveEntry();
        }
    }

    @Override
    public boolean rollBack() {
        return false;
    }

    @Override
    public long checkpoint() {
        return -1;
    }

    @Override
    public String finish() throws IOException {
        if (zip != null) zip.finish(); else tar.finish();
        (zip != null ? zip : tar).flush();
        (zip != null ? zip : tar).close(); // with encryption, closing writes the last encrypted chunk
        file.force(true);
        return digest.finish();
    }

    @Override
    public void close() throws IOException {
        digest.close();
        file.close();
    }
}
