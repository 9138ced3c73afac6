package io.taskmesh.e2e.cluster.story;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** REST calls to the cluster's gateway from this host (its Service's ClusterIP, through kube-proxy), counted. */
final class GatewayCalls {
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"?(\\d+)");

  /** What a batch of calls did: successes, failures by their answer. */
  record Tally(int ok, Map<String, Integer> failures) {
    int failed() {
      return failures.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public String toString() {
      return ok + " succeeded, " + failed() + " failed" + (failures.isEmpty() ? "" : " " + failures);
    }
  }

  private final URI gateway;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final AtomicInteger ok = new AtomicInteger();
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  GatewayCalls(URI gateway) {
    this.gateway = gateway;
  }

  URI uri() {
    return gateway;
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws IOException {
    try {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  HttpResponse<String> get(String path) throws IOException {
    return send(HttpRequest.newBuilder(gateway.resolve(path)).GET());
  }

  HttpResponse<String> post(String path, String json, Map<String, String> headers) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(gateway.resolve(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    headers.forEach(request::header);
    return send(request);
  }

  /** Creates a task through the gateway; its id, when the answer carries one. */
  Optional<String> createTask(String title, int user, Map<String, String> headers) throws IOException {
    HttpResponse<String> response = post("/api/tasks", "{\"title\":\"" + title + "\",\"user_id\":" + user + "}", headers);
    Matcher id = ID.matcher(response.body());
    return response.statusCode() == 200 && id.find() ? Optional.of(id.group(1)) : Optional.empty();
  }

  /** {@code GET /api/tasks/{id}}, counted in the running tally. */
  boolean getCounted(String id) {
    String failure;
    try {
      HttpResponse<String> response = get("/api/tasks/" + id);
      if (response.statusCode() == 200) {
        ok.incrementAndGet();
        return true;
      }
      failure = response.statusCode() + " " + response.headers().firstValue("taskmesh-error")
          .map(error -> error.replaceAll(".*reason=([a-z_]+).*", "$1")).orElse("");
    } catch (IOException e) {
      failure = e.getClass().getSimpleName();
    }
    failures.merge(failure.strip(), 1, Integer::sum);
    return false;
  }

  /** The tally since the last one, which starts a new one. */
  Tally tally() {
    Tally tally = new Tally(ok.getAndSet(0), Map.copyOf(failures));
    failures.clear();
    return tally;
  }
}
