package dev.bunker.alert;

import dev.bunker.config.Redact;
import dev.bunker.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends alert events as a generic JSON POST to every configured webhook, with up to three tries each. */
public final class Webhooks {
    private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
    private final List<String> urls;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public Webhooks(List<String> urls) {
        this.urls = urls;
    }

    /** True if every webhook accepted the event (2xx) within its tries. */
    public boolean send(Map<String, Object> event) {
        boolean all = true;
        for (String url : urls) {
            boolean sent = false;
            for (int attempt = 1; attempt <= 3 && !sent; attempt++) {
                try {
                    HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(event))).build();
                    int status = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                    sent = status / 100 == 2;
                    if (!sent) LOG.warn("webhook {} answered HTTP {} (try {} of 3)", Redact.webhook(url), status, attempt);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                } catch (Exception e) {
                    // The exception's text can repeat the URL, token and all: name its type only.
                    LOG.warn("webhook {} failed (try {} of 3): {}", Redact.webhook(url), attempt, e.getClass().getSimpleName());
                }
                if (!sent && attempt < 3) {
                    try {
                        Thread.sleep(500L * attempt);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
            }
            all &= sent;
        }
        return all;
    }
}
