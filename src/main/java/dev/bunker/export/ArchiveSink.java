package dev.bunker.export;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Where an export's entries go: a tar or zip file, encrypted or not; its SHA-256 is taken as it is written. */
interface ArchiveSink extends Closeable {
    /** Archives hold a user's data: readable by Bunker's user only until the operator hands them over. */
    java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    /** Writes one file entry of exactly {@code size} bytes read from {@code body}. */
    void entry(String path, long size, Instant modified, InputStream body) throws IOException;

    /**
     * Discards the entry that failed while being written, so it can be written again from another copy. False when
     * this sink cannot (a zip or an encrypted stream): the whole run fails and its next try writes the file again.
     */
    boolean rollBack() throws IOException;

    /** Makes everything written so far durable; returns how many bytes of the file that is, or -1 if it cannot be resumed. */
    long checkpoint() throws IOException;

    /** Ends the archive, makes it durable; returns the SHA-256 (hex) of the file's bytes. */
    String finish() throws IOException;

    /** A tar entry as every sink writes it: POSIX (pax) headers for long or non-ASCII names and sizes past 8 GiB. */
    static TarArchiveOutputStream tar(OutputStream out) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, 512, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        return tar;
    }

    static TarArchiveEntry tarEntry(String path, long size, Instant modified) {
        TarArchiveEntry e = new TarArchiveEntry(path, true); // preserve the name as given: no leading-slash or drive stripping
        e.setSize(size);
        e.setMode(0644);
        if (modified != null) e.setModTime(Date.from(modified));
        return e;
    }

    /** Copies exactly {@code size} bytes (an input that ends early or goes on is an error, nothing is padded). */
    static void copy(InputStream body, OutputStream out, long size, String path) throws IOException {
        byte[] buffer = new byte[256 * 1024];
        long left = size;
        while (left > 0) {
            int n = body.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) throw new IOException(path + ": the object ended after " + (size - left) + " of " + size + " bytes");
            out.write(buffer, 0, n);
            left -= n;
        }
        if (body.read() >= 0) throw new IOException(path + ": the object has more than the ledger's " + size + " bytes");
    }
}
