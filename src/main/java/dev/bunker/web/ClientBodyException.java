package dev.bunker.web;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeoutException;

/**
 * Reading the request body failed because of the client: it closed the connection before sending
 * its Content-Length, or stopped sending for the idle timeout. A client error (400 or 408), never
 * a store or server failure, and nothing is stored.
 */
public final class ClientBodyException extends IOException {
    private final int status;

    ClientBodyException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() { return status; }

    /** The first ClientBodyException in {@code e}'s causes, or null. */
    public static ClientBodyException in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ClientBodyException c) return c;
        }
        return null;
    }

    /** The request body, with read failures turned into ClientBodyExceptions that say what the client did. */
    static final class Guarded extends FilterInputStream {
        private final long declared;
        private long read;

        Guarded(InputStream in, long declared) {
            super(in);
            this.declared = declared;
        }

        @Override
        public int read() throws IOException {
            return dev.bunker.store.Sha256.readOneByte(this);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                if (n > 0) read += n;
                return n;
            } catch (IOException e) {
                throw translate(e);
            }
        }

        private IOException translate(IOException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof TimeoutException) {
                    return new ClientBodyException(408, "the client stopped sending the body, or sent it slower than "
                            + HttpApi.MIN_BODY_BYTES_PER_SECOND / 1024 + " KiB/s, after " + read + " bytes; nothing was stored", e);
                }
            }
            String of = declared >= 0 ? " of the " + declared + " its Content-Length announced" : "";
            return new ClientBodyException(400, "the request body ended after " + read + " bytes" + of
                    + " (the client closed the connection: " + e.getMessage() + "); nothing was stored", e);
        }
    }
}
