package dev.bunker.backup;

import com.github.luben.zstd.ZstdInputStream;
import dev.bunker.mariadb.MariaDbPhysical;
import dev.bunker.store.ReadAhead;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What a restore writes on this machine from a decrypting stream: a dump decompressed into a file, a base backup's tar or
 * xbstream into a folder. Another thread decrypts while these decompress and write; a failure to write here is a
 * {@link LocalWriteException}, never blamed on the copy.
 */
final class RestoreStreams {
    private RestoreStreams() {}

    /** Decompresses and extracts while another thread decrypts; reads to the end, so the whole copy is counted and hashed. */
    static long extract(InputStream decrypting, Path targetDir) throws IOException {
        ReadAhead pipe = new ReadAhead(decrypting, "restore-decrypt");
        try (pipe; InputStream plain = new ZstdInputStream(pipe.stream())) {
            long files = BaseBackups.extract(new java.io.FilterInputStream(plain) {
                @Override
                public void close() {
                    // the tar reader closes what it reads; the rest is drained below
                }
            }, targetDir);
            plain.transferTo(OutputStream.nullOutputStream()); // what follows the tar's end (padding)
            return files;
        } catch (LocalWriteException e) {
            throw e; // the disk failed first, whatever the reading thread says once stopped
        } catch (IOException e) {
            IOException upstream = pipe.failure();
            throw upstream != null ? upstream : e;
        }
    }

    /** As {@link #extract}, for an xbstream: mbstream unpacks it; returns the files it made. */
    static long unpack(Path mbstream, InputStream decrypting, Path targetDir) throws IOException {
        if (!Files.isDirectory(targetDir)) { // the server's data, readable by its owner only
            Files.createDirectories(targetDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        }
        ReadAhead pipe = new ReadAhead(decrypting, "restore-decrypt");
        try (pipe; InputStream plain = new ZstdInputStream(pipe.stream())) {
            MariaDbPhysical.extract(mbstream, plain, targetDir);
        } catch (IOException e) {
            if (LocalWriteException.toldByTool(e.getMessage())) throw new LocalWriteException(targetDir, e); // mbstream could not write here
            IOException upstream = pipe.failure();
            throw upstream != null ? upstream : e;
        }
        try (var walk = Files.walk(targetDir)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    /**
     * Decompresses {@code decrypting} into {@code dump} while another thread reads and decrypts (each step gets a core);
     * a failure of reading or decrypting wins over the decompressor's complaint about the data it stopped getting.
     */
    static void decompress(InputStream decrypting, Path dump) throws IOException {
        ReadAhead pipe = new ReadAhead(decrypting, "restore-decrypt");
        try (pipe; InputStream plain = new ZstdInputStream(pipe.stream());
             OutputStream out = Files.newOutputStream(dump, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = plain.read(buf)) > 0; ) {
                try {
                    out.write(buf, 0, n);
                } catch (IOException e) {
                    throw new LocalWriteException(dump, e);
                }
            }
        } catch (LocalWriteException e) {
            throw e; // whatever the reading thread says once stopped, the disk failed first
        } catch (IOException e) {
            IOException upstream = pipe.failure();
            throw upstream != null ? upstream : e;
        }
        IOException upstream = pipe.failure();
        if (upstream != null) throw upstream;
    }
}
