package io.taskmesh.e2e.local;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The gateway step of the demo: the same calls a person would make with curl (each printed as the curl
 * command), made with the JDK's HTTP client against the local mesh's gateway.
 */
final class GatewayTour {
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
  private static final int USER = 2;

  private final URI gateway;
  private final PrintStream out;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  GatewayTour(URI gateway, PrintStream out) {
    this.gateway = gateway;
    this.out = out;
  }

  void run() {
    show("curl -s " + gateway + "/health");
    answer(send(HttpRequest.newBuilder(gateway.resolve("/health")).GET()));
    show("curl -s " + gateway + "/metrics");
    answer(send(HttpRequest.newBuilder(gateway.resolve("/metrics")).GET()));

    String body = "{\"title\":\"Sent as JSON\",\"priority\":\"high\",\"user_id\":" + USER + ",\"project_id\":7}";
    show("curl -s -X POST " + gateway + "/api/tasks -H 'Content-Type: application/json' -d '" + body + "'");
    HttpResponse<String> created = send(HttpRequest.newBuilder(gateway.resolve("/api/tasks"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    answer(created);
    Matcher id = ID.matcher(created.body());
    if (!id.find()) {
      return;
    }
    show("curl -s '" + gateway + "/api/tasks?user_id=" + USER + "'");
    answer(send(HttpRequest.newBuilder(gateway.resolve("/api/tasks?user_id=" + USER)).GET()));

    show("curl -sN -H 'Accept: text/event-stream' '" + gateway + "/api/tasks:watch?user_id=" + USER + "'   (and a PATCH)");
    watchOneEvent(id.group(1));

    show("curl -s " + gateway + "/api/tasks/" + id.group(1) + "   (x120: over the 100 requests/minute of one client)");
    int refused = 0;
    HttpResponse<String> lastRefusal = null;
    for (int i = 0; i < 120; i++) {
      HttpResponse<String> response = send(HttpRequest.newBuilder(gateway.resolve("/api/tasks/" + id.group(1))).GET());
      if (response.statusCode() == 429) {
        refused++;
        lastRefusal = response;
      }
    }
    out.printf("    %d of 120 refused with 429%n", refused);
    if (lastRefusal != null) {
      out.printf("    Retry-After: %s  %s%n", lastRefusal.headers().firstValue("retry-after").orElse("-"),
          lastRefusal.body().strip());
    }
  }

  /** Opens the SSE stream, changes the task, prints the event the stream delivers, closes the stream. */
  private void watchOneEvent(String taskId) {
    List<String> events = new CopyOnWriteArrayList<>();
    CompletableFuture<HttpResponse<Stream<String>>> stream = http.sendAsync(
        HttpRequest.newBuilder(gateway.resolve("/api/tasks:watch?user_id=" + USER))
            .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofLines());
    stream.thenAccept(response -> response.body().filter(line -> line.startsWith("data:")).forEach(events::add));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String patch = "{\"status\":\"in_progress\"}";
    do { // the stream may take a moment to be subscribed: change the task until an event arrives
      send(HttpRequest.newBuilder(gateway.resolve("/api/tasks/" + taskId))
          .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString(patch)));
      patch = patch.contains("in_progress") ? "{\"status\":\"todo\"}" : "{\"status\":\"in_progress\"}";
      pause(300);
    } while (events.isEmpty() && System.nanoTime() < deadline);
    out.println(events.isEmpty() ? "    (no event within 10 s)" : "    " + abbreviate(events.get(0)));
    stream.cancel(true);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void show(String command) {
    out.println("  $ " + command);
  }

  private void answer(HttpResponse<String> response) {
    out.printf("    %d %s%n", response.statusCode(), abbreviate(response.body().strip()));
  }

  private static String abbreviate(String text) {
    String line = text.replace('\n', ' ');
    return line.length() <= 150 ? line : line.substring(0, 147) + "...";
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
