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
  private final HttpClient http;
  private final String base;

  public HttpJsonClient(int port) {
    this(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build(),
        "http://127.0.0.1:" + port);
  }

  private HttpJsonClient(HttpClient http, String base) {
    this.http = http;
    this.base = base;
  }

  /** HTTPS to {@code localhost:port}, trusting what {@code tls} trusts, in {@code version} (agreed by ALPN). */
  public static HttpJsonClient overTls(int port, javax.net.ssl.SSLContext tls, HttpClient.Version version) {
    return new HttpJsonClient(HttpClient.newBuilder().version(version).sslContext(tls)
        .connectTimeout(Duration.ofSeconds(10)).build(), "https://localhost:" + port);
  }

  public HttpRequest.Builder request(String method, String path, String body) {
    return HttpRequest.newBuilder(URI.create(base + path))
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
