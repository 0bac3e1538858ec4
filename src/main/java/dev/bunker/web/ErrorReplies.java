package dev.bunker.web;

import dev.bunker.json.Json;
import dev.bunker.db.DatabaseUnavailableException;
import dev.bunker.lifecycle.LifecycleException;
import dev.bunker.pitr.PitrException;
import dev.bunker.replication.Ingest;
import dev.bunker.store.InvalidKeyException;
import dev.bunker.store.ObjectLockedException;
import dev.bunker.store.ObjectNotFoundException;
import dev.bunker.store.StoreException;
import dev.bunker.store.StoreUnavailableException;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become HTTP answers: a status chosen by the exception's type and a
 * JSON {@code {"error": ...}} body. Client errors say what to fix; database and internal failures
 * get a generic message (the details, which may name tables or hosts, go to the log only).
 */
final class ErrorReplies {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorReplies.class);

    private ErrorReplies() {}

    static void reply(Call call, String method, String path, Exception e) {
        int status = status(e);
        String message = message(e, status);
        if (status >= 500) {
            String incident = UUID.randomUUID().toString().substring(0, 8);
            if (status == 500 || databaseFailure(e)) {
                message = message + " (incident " + incident + ")";
                LOG.warn("{} {} failed [incident {}]: {}", method, path, incident, e.toString(), e);
            } else {
                LOG.warn("{} {} failed: {}", method, path, e.toString());
            }
        }
        if (call.replied()) {
            call.abort(e); // the body was already streaming: cut it short so the client cannot take it as whole
            return;
        }
        call.errorQuietly(status, message);
    }

    static int status(Throwable e) {
        ClientBodyException body = ClientBodyException.in(e);
        if (body != null) return body.status();
        if (e instanceof BadRequestException || e instanceof InvalidKeyException) return 400;
        if (e instanceof Ingest.Rejected r) return r.reason() == Ingest.Rejected.Reason.INVALID ? 400 : 409;
        if (e instanceof LifecycleException l) return l.reason() == LifecycleException.Reason.NO_SUCH_OBJECT ? 404 : 409;
        if (e instanceof dev.bunker.export.ExportException x) {
            return switch (x.reason()) { case INVALID -> 400; case NOT_FOUND -> 404; case CONFLICT -> 409; };
        }
        if (e instanceof PitrException.Unavailable) return 503;
        if (e instanceof PitrException p) return p.callersFault() ? 400 : 500;
        if (e instanceof ObjectNotFoundException) return 404;
        if (e instanceof ObjectLockedException) return 409;
        if (databaseFailure(e)) return 503;
        if (e instanceof StoreUnavailableException) return 503;
        if (e instanceof StoreException) return 502;
        return 500;
    }

    private static String message(Throwable e, int status) {
        ClientBodyException body = ClientBodyException.in(e);
        if (body != null) return body.getMessage();
        if (databaseFailure(e)) return "Bunker's database is unavailable; retry later";
        if (status == 500) return "internal error; the server log has the details";
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static boolean databaseFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException || t instanceof DatabaseUnavailableException) return true;
        }
        return false;
    }

    /** Jetty's terse reasons for refusing a request line, in words that say how to fix it. */
    static String plainWords(String jettyReason) {
        if (jettyReason.equals("Illegal character in path")) {
            return "the path holds a character no key may contain (a NUL byte, %00, or a raw control character)";
        }
        if (jettyReason.startsWith("!hex")) return "the path has a malformed %-escape; write a '%' as %25 and other bytes as %XX with two hex digits";
        return jettyReason;
    }

    /** Jetty's own refusals (a malformed request line, headers too large, ...) as the same JSON as Bunker's. */
    static final class JettyErrors extends ErrorHandler {
        JettyErrors() {
            setShowStacks(false);
            setShowCauses(false);
            setDefaultResponseMimeType("application/json");
        }

        @Override
        protected void writeErrorJson(Request request, PrintWriter writer, int code, String message, Throwable cause) {
            String text = code + " " + (message == null ? "" : message);
            // A refusal of the client's request says why (a server error may not): the deepest cause names the malformed part.
            Throwable root = cause;
            while (root != null && root.getCause() != null && root.getCause() != root) root = root.getCause();
            if (code < 500 && root != null && root.getMessage() != null) text += ": " + plainWords(root.getMessage());
            try {
                writer.write(Json.MAPPER.writeValueAsString(Map.of("error", text)));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                writer.write("{\"error\": \"" + code + "\"}");
            }
        }
    }
}
