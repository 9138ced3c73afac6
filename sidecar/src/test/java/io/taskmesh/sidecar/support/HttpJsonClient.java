package io.taskmesh.sidecar.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/** curl-style HTTP/1.1 requests to a gateway port with the JDK HttpClient. */
public final class HttpJsonClient {
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final int port;

  public HttpJsonClient(int port) {
    this.port = port;
  }

  public HttpRequest.Builder request(String method, String path, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
  }

  public HttpResponse<String> send(String method, String path, String body) {
    return send(request(method, path, body));
  }

  public HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A streamed answer, line by line, available once its head arrives. */
  public CompletableFuture<HttpResponse<Stream<String>>> stream(HttpRequest.Builder request) {
    return http.sendAsync(request.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofLines());
  }
}
