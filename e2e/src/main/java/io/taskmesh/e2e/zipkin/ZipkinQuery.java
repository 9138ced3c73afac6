package io.taskmesh.e2e.zipkin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** Reads traces back from a Zipkin server's v2 HTTP API. */
public final class ZipkinQuery {
  private static final TypeReference<List<Span>> SPANS = new TypeReference<>() {};
  private static final TypeReference<List<List<Span>>> TRACES = new TypeReference<>() {};

  private final URI base;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper();

  public ZipkinQuery(URI base) {
    this.base = base;
  }

  /** The spans of one trace; empty when Zipkin has none (yet). */
  public List<Span> trace(String traceId) {
    String body = get("/api/v2/trace/" + traceId);
    return body == null ? List.of() : read(body, SPANS);
  }

  /** The most recent traces that have a span of {@code serviceName}. */
  public List<List<Span>> traces(String serviceName, int limit) {
    String body = get("/api/v2/traces?serviceName=" + URLEncoder.encode(serviceName, StandardCharsets.UTF_8)
        + "&limit=" + limit + "&lookback=3600000");
    return body == null ? List.of() : read(body, TRACES);
  }

  private String get(String path) {
    HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5)).build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 404) {
        return null;
      }
      if (response.statusCode() != 200) {
        throw new IllegalStateException("Zipkin answered " + response.statusCode() + " to " + path + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach Zipkin at " + base, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private <T> T read(String body, TypeReference<T> type) {
    try {
      return json.readValue(body, type);
    } catch (IOException e) {
      throw new UncheckedIOException("Zipkin's answer is not the v2 span JSON", e);
    }
  }
}
