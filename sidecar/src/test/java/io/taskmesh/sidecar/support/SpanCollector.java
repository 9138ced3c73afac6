package io.taskmesh.sidecar.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Receives spans the way a Zipkin server does ({@code POST /api/v2/spans}, v2 JSON) on loopback, and
 * keeps them for the test to read.
 */
public final class SpanCollector implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final List<JsonNode> spans = new CopyOnWriteArrayList<>();

  public SpanCollector() {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/api/v2/spans", exchange -> {
      for (JsonNode span : JSON.readTree(exchange.getRequestBody())) {
        spans.add(span);
      }
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    server.start();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The spans of one trace received so far. */
  public List<JsonNode> trace(String traceId) {
    List<JsonNode> trace = new ArrayList<>();
    for (JsonNode span : spans) {
      if (span.path("traceId").asText().equals(traceId)) {
        trace.add(span);
      }
    }
    return trace;
  }

  public List<JsonNode> all() {
    return List.copyOf(spans);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
