package dev.bunker.backup;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * age encryption (age-encryption.org/v1, X25519 recipients) through the Jagged library: what Bunker
 * writes, the standard {@code age} CLI decrypts, and the other way round. Backups are encrypted to
 * public keys only, so the machine that takes them cannot read them.
 */
public final class AgeCrypto {
    private AgeCrypto() {}

    /** Wraps {@code out} so what is written to the result is encrypted to every recipient; closing it writes the last chunk. */
    public static OutputStream encrypting(OutputStream out, List<String> recipients) throws IOException {
        try {
            List<RecipientStanzaWriter> writers = new ArrayList<>();
            for (String r : recipients) writers.add(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(r.trim()));
            return Channels.newOutputStream(new StandardEncryptingChannelFactory().newEncryptingChannel(Channels.newChannel(out), writers));
        } catch (GeneralSecurityException e) {
            throw new IOException("unable to encrypt to the configured age recipients: " + e.getMessage(), e);
        }
    }

    /** Decrypts {@code in} with any of the identities; a wrong key fails here, corrupt data while reading. */
    public static InputStream decrypting(InputStream in, List<String> identities) throws IOException {
        try {
            List<RecipientStanzaReader> readers = new ArrayList<>();
            for (String id : identities) readers.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(id));
            return Channels.newInputStream(new StandardDecryptingChannelFactory().newDecryptingChannel(Channels.newChannel(in), readers));
        } catch (GeneralSecurityException e) {
            throw new IOException("unable to decrypt: none of the given age identities opens this backup ("
                    + e.getMessage() + "); use the key whose public key is listed in the backup's manifest", e);
        }
    }

    /** The AGE-SECRET-KEY-1... lines of an identity file as written by {@code age-keygen}. */
    public static List<String> readIdentities(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (t.startsWith("AGE-SECRET-KEY-1")) out.add(t);
            }
        } catch (NoSuchFileException e) {
            throw new IOException("identity file " + file + " not found; pass the age key file made by age-keygen with --identity", e);
        }
        if (out.isEmpty()) throw new IOException("identity file " + file + " has no AGE-SECRET-KEY-1 line; expected a key file made by age-keygen");
        return out;
    }
}
