package dev.bunker.export;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.time.Instant;
import java.util.Date;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Where an export's entries go: a tar or zip file, encrypted or not; its SHA-256 is taken as it is written. */
interface ArchiveSink extends Closeable {
    /** Archives hold a user's data: readable by Bunker's user only until the operator hands them over. */
    java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    /**
     * The archive's file, opened without following a link: {@code fresh}, whatever is at the name is removed and a new
     * owner-only file created in its place; otherwise (resuming) the file must be a regular one of this process's user
     * that nobody else may read, as an earlier run left it. Anyone who can write to the destination folder could
     * otherwise point the name at another file (Bunker would overwrite it) or hand Bunker a file they can read.
     */
    static FileChannel openFile(Path path, boolean fresh) throws IOException {
        if (fresh) {
            Files.deleteIfExists(path); // a link is removed, not followed
            return FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), OWNER_ONLY);
        }
        if (Files.isSymbolicLink(path)) {
            throw new IOException(path + " is a symbolic link, not the file an earlier run of this export left; remove it and run again");
        }
        FileChannel file = FileChannel.open(path, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
        try {
            PosixFileAttributes a = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object uid = Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            boolean shared = a.permissions().stream().anyMatch(p -> p != PosixFilePermission.OWNER_READ && p != PosixFilePermission.OWNER_WRITE);
            if (!a.isRegularFile() || shared || !uid.equals((int) new com.sun.security.auth.module.UnixSystem().getUid())) {
                throw new IOException(path + " is not the private file an earlier run of this export left (owner " + a.owner().getName()
                        + ", mode " + java.nio.file.attribute.PosixFilePermissions.toString(a.permissions()) + "); remove it and run again");
            }
            return file;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

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
