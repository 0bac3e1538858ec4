package dev.bunker.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunker.cli.BunkerCommand;
import dev.bunker.config.BunkerConfig.DatabaseConfig;
import dev.bunker.json.Json;
import dev.bunker.testing.AppDatabases;
import dev.bunker.testing.ChildJvm;
import dev.bunker.testing.RawHttp;
import dev.bunker.testing.ServeProcess;
import dev.bunker.testing.TestDatabase;
import java.io.File;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium against a real {@code serve}: a wrong token is refused, a read token shows the
 * stores, a replication lag that rises while a store is unwritable and falls once it is back, a failed drill in red and the
 * disaster-recovery table, with figures equal to the API's; the runbook page; a phone-width screen and the dark scheme; an
 * admin records an audit with the button; after logout the session is dead. Screenshots go to target/dashboard/.
 */
@Timeout(300)
class DashboardBrowserTest {
    static final Path SHOTS = Path.of("target", "dashboard");
    static final String ADMIN = "bkr_admin-token-for-the-dashboard-test-0000000000";
    static final String VIEWER = "bkr_read-token-for-the-dashboard-test-00000000000";

    @TempDir Path dir;
    ServeProcess serve;
    ChromeDriver browser;

    @AfterEach
    void tearDown() throws Exception {
        if (browser != null) browser.quit();
        if (serve != null) serve.close();
    }

    Path config(DatabaseConfig db, Path key, String recipient) throws Exception {
        return config(db, key, recipient, "postgresql://nobody@127.0.0.1:1/gone", null);
    }

    Path config(DatabaseConfig db, Path key, String recipient, String sourceUrl, String sourceUser) throws Exception {
        String yaml = """
                database: {url: "%s", user: %s}
                data-dir: %s
                listen: 127.0.0.1:0
                stores:
                  primary: {type: local, path: %s}
                  vault:   {type: local, path: %s, lock: {period: 1d}}
                  shelter: {type: local, path: %s, tier: cold}
                replication: {primary: primary, targets: [vault, shelter], workers: 2, lease: 3s, poll: 100ms, retry-initial: 200ms, retry-max: 1s,
                              breaker-cooldown: 1s}
                api:
                  tokens:
                    ops: {scope: admin, sha256: "%s"}
                    viewer: {scope: read, sha256: "%s"}
                backups:
                  recipients: ["%s"]
                  stores: [vault]
                  sources:
                    app: {url: "%s"%s}
                drills:
                  db: {identity: %s}
                dashboard: {sample-every: 1s}
                """.formatted(db.url(), db.user(), dir.resolve("data"), dir.resolve("primary"), dir.resolve("vault"), dir.resolve("shelter"),
                Tokens.hash(ADMIN), Tokens.hash(VIEWER), recipient, sourceUrl, sourceUser == null ? "" : ", user: " + sourceUser, key);
        Path f = dir.resolve("bunker.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    record Ran(int exit, String out) {}

    /** Runs a CLI command in a JVM of its own, to the end. */
    static Ran cli(String... args) throws Exception {
        Process p = ChildJvm.builder(BunkerCommand.class, args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Ran(p.exitValue(), out);
    }

    static ChromeDriver chromium() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")) && Files.isExecutable(Path.of("/usr/bin/chromedriver")),
                "Debian's chromium and chromium-driver are needed (.ci/run installs them)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,2600");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    void shot(String name) throws Exception {
        Files.createDirectories(SHOTS);
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** The page redraws every second: waits ignore elements that were replaced under them. */
    WebDriverWait waitUpTo(int seconds) {
        WebDriverWait w = new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(200));
        w.ignoring(StaleElementReferenceException.class);
        return w;
    }

    /** The text of the first element {@code css} selects, read in one step (null: none). */
    String text(String css) {
        return (String) browser.executeScript("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", css);
    }

    HttpResponse<String> call(String method, String path, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(serve.uri().resolve(path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        // A client of its own per call: a refusal sent before the body was read ends that connection, and a pooled
        // connection could be reused by the next call just as the server closes it.
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode status() throws Exception {
        return Json.MAPPER.readTree(call("GET", "/v1/status", Map.of("Authorization", "Bearer " + VIEWER), null).body());
    }

    double lagShown() {
        String text = text("#queue-lag b"); // "12.3 s", "2.5 min"
        double v = Double.parseDouble(text.split(" ")[0]);
        return text.endsWith("min") ? v * 60 : text.endsWith(" h") ? v * 3600 : v;
    }

    void login(String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.cssSelector("#login-form button[type=submit]")).click();
    }

    @Test
    void theDashboardShowsWhatTheApiSaysAndFollowsAStoreThatStopsAndComesBack() throws Exception {
        DatabaseConfig db = TestDatabase.fresh();
        AppDatabases.App app = AppDatabases.create(20, 50);
        Path key = dir.resolve("drill-key.txt");
        Path cfg = config(db, key, AppDatabases.ageKey(key), app.db().url(), app.role());
        // A database drill that fails (no backup yet): the page must show it red. Then a backup for the timeline.
        Ran drill = cli("drill", "db", "--config", cfg.toString());
        assertThat(drill.exit()).as(drill.out()).isEqualTo(1);
        Ran backup = cli("db", "backup", "--source", "app", "--config", cfg.toString());
        assertThat(backup.exit()).as(backup.out()).isZero();
        String backupId = backup.out().lines().filter(l -> l.contains(": ") && l.contains("MB encrypted")).findFirst().orElseThrow()
                .split(":")[0];
        serve = ServeProcess.start(dir, "--config", cfg.toString());
        browser = chromium();

        // A wrong token is refused, on the page and over HTTP, and sets no cookie.
        browser.get(serve.uri().resolve("/?refresh=1").toString());
        waitUpTo(30).until(d -> d.findElement(By.id("login")).isDisplayed());
        login("bkr_not-a-token");
        waitUpTo(10).until(d -> d.findElement(By.id("login-error")).getText().contains("not an API token"));
        assertThat(browser.findElement(By.id("dashboard")).isDisplayed()).isFalse();
        HttpResponse<String> wrong = call("POST", "/login", Map.of("Content-Type", "application/x-www-form-urlencoded"), "token=bkr_wrong");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(call("GET", "/ui/v1/status", Map.of(), null).statusCode()).isEqualTo(401);

        // A read token shows everything.
        login(VIEWER);
        waitUpTo(30).until(d -> d.findElement(By.id("who")).getText().contains("viewer (read)"));
        waitUpTo(30).until(d -> d.findElements(By.cssSelector("#stores-table tr[data-store]")).size() == 3);
        for (String store : List.of("primary", "vault", "shelter")) assertThat(text("tr[data-store=" + store + "] [data-field=health]")).startsWith("healthy");
        assertThat(text("tr[data-store=vault]")).contains("compliance, 1d");
        waitUpTo(30).until(d -> text("[data-drill=db]") != null);
        assertThat((String) browser.executeScript("return document.querySelector('[data-drill=db]').className")).contains("red");
        assertThat(text("[data-drill=db]")).contains("FAILED").contains("no backup");
        assertThat((String) browser.executeScript("return getComputedStyle(document.querySelector('[data-drill=db]')).backgroundColor"))
                .isEqualTo("rgb(253, 231, 231)"); // --bad-bg
        String drTable = text("#dr-table");
        JsonNode dr = Json.MAPPER.readTree(call("GET", "/v1/dr", Map.of("Authorization", "Bearer " + VIEWER), null).body());
        for (JsonNode s : dr.get("scenarios")) assertThat(drTable).contains(s.get("name").asText());
        assertThat(browser.findElements(By.id("retry-all"))).isEmpty(); // read scope: no admin buttons
        waitUpTo(30).until(d -> text("[data-source=app]") != null && text("[data-source=app]").contains(backupId));
        assertThat(text("[data-source=app]")).contains("dump").contains("vault");
        waitUpTo(30).until(d -> Integer.parseInt(d.findElement(By.id("timeline-app")).getAttribute("data-points")) >= 1);
        shot("dashboard");

        // A store stops taking writes: the lag rises on the page while uploads wait for it.
        Path shelter = dir.resolve("shelter");
        Path aside = dir.resolve("shelter-aside");
        Files.move(shelter, aside);
        Files.writeString(shelter, "not a folder: the store cannot write");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> put = call("PUT", "/v1/objects/photos/" + i + ".jpg", Map.of("Authorization", "Bearer " + ADMIN), "photo " + i);
            assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        }
        waitUpTo(60).until(d -> lagShown() >= 4);
        double risen = lagShown();
        waitUpTo(30).until(d -> text("tr[data-store=shelter] [data-field=health]").startsWith("FAILING"));
        assertThat(text("#queue-depth b")).isEqualTo("5");
        shot("lag-rising");

        // It comes back: the copies are made and the lag falls to 0.
        Files.delete(shelter);
        Files.move(aside, shelter);
        waitUpTo(60).until(d -> "0".equals(text("#queue-depth b")) && lagShown() == 0);
        assertThat(risen).isGreaterThanOrEqualTo(3);
        waitUpTo(30).until(d -> "5".equals(text("tr[data-store=shelter] [data-field=verified] [data-count]")));
        // 24 h in at most 1440 points: one-minute buckets, each with the peak of its samples (here taken every second).
        waitUpTo(30).until(d -> Integer.parseInt(d.findElement(By.id("chart-queue")).getAttribute("data-points")) >= 1);
        JsonNode lagLine = Json.MAPPER.readTree(call("GET", "/v1/history", Map.of("Authorization", "Bearer " + VIEWER), null).body()).at("/series/queue.lag_seconds/values");
        double peak = 0;
        for (JsonNode v : lagLine) peak = Math.max(peak, v.asDouble());
        assertThat(peak).isGreaterThanOrEqualTo(2); // the rise is in the history the chart draws (sampled each second, the page saw 3 s)
        // Settled: every figure on the page is the API's.
        JsonNode st = status();
        assertThat(text("#objects b")).isEqualTo(st.get("objects").asText()).isEqualTo("5");
        assertThat(text("tr[data-store=vault] [data-field=verified] [data-count]")).isEqualTo(st.at("/copies/vault/verified").asText());
        // Bytes per copy state: five 7-byte photos, the API's figure and the page's.
        assertThat(st.at("/copyBytes/shelter/verified").asLong()).isEqualTo(35);
        assertThat(text("tr[data-store=shelter] [data-field=verified] [data-bytes]")).isEqualTo("35 B");
        assertThat(text("#queue-failed b")).isEqualTo(st.at("/replication/failed").asText());
        shot("lag-fallen");

        // The runbook page, written from this config.
        browser.findElement(By.id("nav-runbook")).click();
        waitUpTo(30).until(d -> text("[data-scenario=primary-store]") != null);
        assertThat(text("[data-scenario=primary-store]")).contains("bin/bunker reconcile --config " + cfg.toAbsolutePath());
        shot("runbook");

        // A phone-width screen: nothing wider than the screen but the tables' own scroll areas; and the dark scheme.
        browser.get(serve.uri().resolve("/?refresh=1").toString());
        browser.manage().window().setSize(new Dimension(390, 2400));
        waitUpTo(30).until(d -> d.findElements(By.cssSelector("#stores-table tr[data-store]")).size() == 3);
        // The charts are redrawn for the new width by the page's resize handler, a moment after the resize: wait for that.
        waitUpTo(10).until(d -> ((Number) browser.executeScript("return document.documentElement.scrollWidth - window.innerWidth")).intValue() <= 1);
        Object overflow = browser.executeScript("return document.documentElement.scrollWidth - window.innerWidth");
        assertThat(((Number) overflow).intValue()).isLessThanOrEqualTo(1);
        shot("phone");
        browser.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        String background = (String) browser.executeScript("return getComputedStyle(document.body).backgroundColor");
        assertThat(background).isEqualTo("rgb(15, 18, 22)");
        shot("phone-dark");
        browser.manage().window().setSize(new Dimension(1280, 2600));

        // Logout ends the session: the old cookie no longer opens anything.
        String cookie = browser.manage().getCookieNamed(Sessions.COOKIE).getValue();
        assertThat(browser.manage().getCookieNamed(Sessions.COOKIE).isHttpOnly()).isTrue();
        assertThat(call("GET", "/ui/v1/status", Map.of("Cookie", Sessions.COOKIE + "=" + cookie), null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/v1/status", Map.of("Cookie", Sessions.COOKIE + "=" + cookie), null).statusCode()).isEqualTo(401); // the API: bearer only
        browser.findElement(By.id("logout")).click();
        waitUpTo(10).until(d -> d.findElement(By.id("login")).isDisplayed());
        assertThat(call("GET", "/ui/v1/status", Map.of("Cookie", Sessions.COOKIE + "=" + cookie), null).statusCode()).isEqualTo(401);

        // An admin records the monthly audit with the button; `bunker dr` and the API show it.
        login(ADMIN);
        waitUpTo(30).until(d -> d.findElement(By.id("audit-record")).isDisplayed());
        browser.findElement(By.id("audit-by")).sendKeys("Ada <script>alert(1)</script>");
        browser.findElement(By.id("audit-note")).sendKeys("walked through every scenario");
        browser.findElement(By.id("audit-record")).click();
        waitUpTo(30).until(d -> text("#audit-last").contains("by Ada <script>alert(1)</script>"));
        JsonNode audits = Json.MAPPER.readTree(call("GET", "/v1/dr/audits", Map.of("Authorization", "Bearer " + VIEWER), null).body());
        assertThat(audits.at("/audits/0/by").asText()).isEqualTo("Ada <script>alert(1)</script>");
        assertThat(audits.at("/audits/0/token").asText()).isEqualTo("ops");
        assertThat(browser.findElements(By.tagName("script")).size()).isEqualTo(2); // the name stayed text
        shot("admin");
    }

    @Test
    void sessionCallsThatChangeSomethingNeedTheHeaderAndTheScope() throws Exception {
        DatabaseConfig db = TestDatabase.fresh();
        Path key = dir.resolve("drill-key.txt");
        Path cfg = config(db, key, AppDatabases.ageKey(key));
        serve = ServeProcess.start(dir, "--config", cfg.toString());
        String form = "application/x-www-form-urlencoded";
        String viewer = cookie(call("POST", "/login", Map.of("Content-Type", form), "token=" + VIEWER));
        String admin = cookie(call("POST", "/login", Map.of("Authorization", "Bearer " + ADMIN), null));
        String audit = "{\"by\": \"Grace\", \"note\": \"ok\"}";
        Map<String, String> json = Map.of("Content-Type", "application/json");

        // A cross-site form cannot add the header: refused even with an admin session.
        assertThat(call("POST", "/ui/v1/dr/audits", Map.of("Cookie", admin, "Content-Type", form), audit).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/ui/v1/dr/audits", Map.of("Cookie", viewer, HttpApi.UI_HEADER, "1"), audit).statusCode()).isEqualTo(403);
        HttpResponse<String> ok = call("POST", "/ui/v1/dr/audits", Map.of("Cookie", admin, HttpApi.UI_HEADER, "1", "Content-Type", "application/json"), audit);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        // Hostile bodies are refused with the reason and record nothing.
        for (String bad : List.of("", "not json", "[1]", "{\"by\": 5}", "{\"by\": \"\"}", "{\"by\": \"" + "x".repeat(201) + "\"}",
                "{\"by\": \"a\\u0000b\"}", "{\"by\": \"x\", \"note\": \"" + "n".repeat(20_000) + "\"}")) {
            HttpResponse<String> r = call("POST", "/v1/dr/audits", Map.of("Authorization", "Bearer " + ADMIN, "Content-Type", "application/json"), bad);
            assertThat(r.statusCode()).as(bad.length() > 60 ? bad.substring(0, 60) : bad).isEqualTo(400);
            assertThat(r.body()).contains("error");
        }
        JsonNode audits = Json.MAPPER.readTree(call("GET", "/v1/dr/audits", Map.of("Authorization", "Bearer " + VIEWER), null).body());
        assertThat(audits.get("audits")).hasSize(1);
        assertThat(call("POST", "/v1/jobs/retry", Map.of("Authorization", "Bearer " + VIEWER), null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/ui/v1/jobs/retry", Map.of("Cookie", admin, HttpApi.UI_HEADER, "1"), null).statusCode()).isEqualTo(200);
        // A login body too large, a forged or expired cookie, a session token a wal-push token cannot have.
        assertThat(call("POST", "/login", Map.of("Content-Type", form), "token=" + "x".repeat(10_000)).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/ui/v1/status", Map.of("Cookie", Sessions.COOKIE + "=forged"), null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/ui/v1/status", Map.of("Cookie", Sessions.COOKIE + "=" + "a".repeat(5000)), null).statusCode()).isEqualTo(401);
        // The page itself carries no data and a strict policy; the chart library is served from the jar.
        HttpResponse<String> page = call("GET", "/", Map.of(), null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'").contains("frame-ancestors 'none'");
        assertThat(page.body()).doesNotContain("primary").contains("/webjars/uplot/uPlot.iife.min.js");
        assertThat(call("GET", "/webjars/uplot/uPlot.iife.min.js", Map.of(), null).body()).contains("uPlot");
        // Raw paths that try to climb out of the dashboard's folder into other classpath files: nothing but the named files is served.
        for (String raw : List.of("/assets/..%2Fdb%2Fmigration%2FV17__dashboard_history_and_audits.sql", "/assets/%2e%2e/simplelogger.properties",
                "/assets/../simplelogger.properties", "/webjars/uplot/..%2F..%2F..%2Fdb%2Fmigration%2FV2__replication.sql", "/webjars/uplot/package.json",
                "/assets/app.js%00.png")) {
            RawHttp.Reply r = RawHttp.get(serve.uri(), raw, null);
            assertThat(r.status()).as(raw).isIn(400, 404);
            assertThat(r.text()).as(raw).doesNotContain("create table").doesNotContain("org.slf4j");
        }
        assertThat(RawHttp.get(serve.uri(), "/assets/app.js", null).status()).isEqualTo(200);
        // Only the page's own changes are open to sessions, and only from its own page.
        Map<String, String> fromPage = Map.of("Cookie", admin, HttpApi.UI_HEADER, "1");
        HttpResponse<String> put = call("PUT", "/ui/v1/objects/planted.txt", fromPage, "x");
        assertThat(put.statusCode()).isEqualTo(403);
        assertThat(put.body()).contains("not open to dashboard sessions");
        assertThat(call("POST", "/ui/v1/trash/empty", fromPage, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/ui/v1/jobs/retry", Map.of("Cookie", admin, HttpApi.UI_HEADER, "1", "Origin", "http://evil.example"), null).statusCode())
                .isEqualTo(403);
        HttpResponse<String> crossLogin = call("POST", "/login", Map.of("Content-Type", form, "Origin", "http://evil.example"), "token=" + ADMIN);
        assertThat(crossLogin.statusCode()).isEqualTo(403);
        assertThat(crossLogin.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(call("POST", "/login", Map.of("Content-Type", form, "Sec-Fetch-Site", "cross-site"), "token=" + ADMIN).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/logout", Map.of("Cookie", admin, "Origin", "http://evil.example"), null).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/ui/v1/whoami", Map.of("Cookie", admin), null).statusCode()).isEqualTo(200); // that logout did nothing
        // A new login replaces the session the browser had.
        String again = cookie(call("POST", "/login", Map.of("Content-Type", form, "Cookie", viewer), "token=" + VIEWER));
        assertThat(call("GET", "/ui/v1/whoami", Map.of("Cookie", viewer), null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/ui/v1/whoami", Map.of("Cookie", again), null).statusCode()).isEqualTo(200);
        // History is bounded by what is kept.
        assertThat(call("GET", "/v1/history?since=400d", Map.of("Authorization", "Bearer " + VIEWER), null).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/v1/history?since=soon", Map.of("Authorization", "Bearer " + VIEWER), null).statusCode()).isEqualTo(400);
    }

    static String cookie(HttpResponse<String> login) {
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        String set = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(set).contains("HttpOnly").contains("SameSite=Strict");
        return set.substring(0, set.indexOf(';'));
    }
}
