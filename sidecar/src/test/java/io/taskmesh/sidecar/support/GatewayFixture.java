package io.taskmesh.sidecar.support;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.taskservice.api.TaskProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A gateway in front of the mesh of a {@link MeshFixture}: a proxy with a {@code gateway:} section whose
 * outbound side reaches {@code task-service} at the given ports (server sidecars).
 */
public final class GatewayFixture {
  private GatewayFixture() {}

  /**
   * @param descriptors the descriptor-set file, or null to use server reflection
   * @param rateLimit the {@code clientRateLimit} mapping, e.g. {@code {requestsPerMinute: 600}}
   */
  public static Sidecar gateway(MeshFixture mesh, Path descriptors, String rateLimit, int... upstreamPorts) {
    return mesh.sidecar(MeshConfigParser.parse(yaml(descriptors, rateLimit, upstreamPorts)));
  }

  /** The gateway's config, for tests that add to it (e.g. a {@code tracing:} line). */
  public static String yaml(Path descriptors, String rateLimit, int... upstreamPorts) {
    return yaml(descriptors, rateLimit, "{}", upstreamPorts);
  }

  /** @param outboundDefaults the {@code outbound.defaults} mapping, e.g. {@code {timeout: 300ms}} */
  public static String yaml(Path descriptors, String rateLimit, String outboundDefaults, int... upstreamPorts) {
    return yaml(descriptors, rateLimit, outboundDefaults, List.of(), upstreamPorts);
  }

  /** @param extraRoutes more {@code gateway.routes} entries, e.g. {@code {pathPrefix: /api/billing, service: billing}} */
  public static String yaml(Path descriptors, String rateLimit, String outboundDefaults, List<String> extraRoutes,
      int... upstreamPorts) {
    StringBuilder endpoints = new StringBuilder();
    for (int port : upstreamPorts) {
      endpoints.append(endpoints.isEmpty() ? "" : ", ").append("\"127.0.0.1:").append(port).append('"');
    }
    String descriptorsLine = descriptors == null ? "" : "  descriptors: {file: \"" + descriptors + "\"}\n";
    return """
        service: gateway
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery:
            static: {%s: [%s]}
          defaults: %s
        admin: {port: 0}
        gateway:
          port: 0
          routes:
            - {pathPrefix: /api/tasks, service: %s, transcode: true}
            - {pathPrefix: /taskservice.TaskService/, service: %s}
        %s  clientRateLimit: %s
        %s""".formatted(MeshFixture.SERVICE, endpoints, outboundDefaults, MeshFixture.SERVICE, MeshFixture.SERVICE,
        extraRoutes.stream().map(route -> "    - " + route + "\n").collect(Collectors.joining()), rateLimit,
        descriptorsLine);
  }

  /** What the task-service build writes with {@code writeDescriptorSet}: task.proto and its imports. */
  public static Path writeTaskDescriptorSet(Path directory) {
    Map<String, FileDescriptor> files = new LinkedHashMap<>();
    collect(TaskProto.getDescriptor(), files);
    FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
    files.values().forEach(file -> set.addFile(file.toProto()));
    Path file = directory.resolve("task-service.pb");
    try {
      Files.write(file, set.build().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  private static void collect(FileDescriptor file, Map<String, FileDescriptor> files) {
    if (files.containsKey(file.getName())) {
      return;
    }
    file.getDependencies().forEach(dependency -> collect(dependency, files));
    files.put(file.getName(), file);
  }

  /** What a plaintext HTTP/1.1 request to a TLS port gets: whatever bytes come back before the gateway closes. */
  public static String plaintextAnswer(int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port));
      socket.setSoTimeout(60_000);
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    } catch (SocketException reset) {
      return "";
    }
  }
}
