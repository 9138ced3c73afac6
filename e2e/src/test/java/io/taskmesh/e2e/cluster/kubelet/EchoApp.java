package io.taskmesh.e2e.cluster.kubelet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * A small app for kubelet tests, run as a pod's container: it answers with what the container sees —
 * its pod name ({@code /}), an env variable ({@code /env?name=}), a file ({@code /file?path=}) — and
 * makes a call from inside the pod ({@code /fetch?url=}).
 */
public final class EchoApp {
  private EchoApp() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 16);
    server.createContext("/", exchange -> {
      try {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery();
        String value = query == null ? "" : URLDecoder.decode(query.substring(query.indexOf('=') + 1), StandardCharsets.UTF_8);
        switch (path) {
          case "/" -> reply(exchange, 200, System.getenv("POD_NAME"));
          case "/env" -> reply(exchange, 200, String.valueOf(System.getenv(value)));
          case "/file" -> {
            Path file = Path.of(value);
            if (Files.isRegularFile(file)) {
              reply(exchange, 200, Files.readString(file));
            } else {
              reply(exchange, 404, "no file " + value);
            }
          }
          case "/fetch" -> {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(value))
                .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            reply(exchange, response.statusCode(), response.body());
          }
          default -> reply(exchange, 404, "unknown path " + path);
        }
      } catch (IOException | RuntimeException e) {
        reply(exchange, 502, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        reply(exchange, 503, e.toString());
      }
    });
    // /fetch may call this same server (through its Service, or a capture rule): one thread would deadlock
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    System.out.println("echo listening on " + port);
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
    exchange.close();
  }
}
