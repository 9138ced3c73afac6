package io.taskmesh.bench;

import io.taskmesh.e2e.local.ChildProcess;
import io.taskmesh.e2e.local.Readiness;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One nginx or haproxy process set up as a gRPC (HTTP/2 cleartext) hop, the way people run them in front
 * of gRPC services: HTTP/2 on both sides, upstream connections kept alive and reused.
 */
public final class PeerProxy implements AutoCloseable {
  private final ChildProcess process;
  private final long startToReadyMillis;

  private PeerProxy(ChildProcess process, long startToReadyMillis) {
    this.process = process;
    this.startToReadyMillis = startToReadyMillis;
  }

  /** nginx with {@code grpc_pass}; keepalive to the upstream, and no limit of 1,000 requests per connection. */
  public static PeerProxy nginx(Path directory, int listenPort, int upstreamPort) {
    String config = """
        daemon off;
        worker_processes auto;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 8192; }
        http {
          access_log off;
          client_body_temp_path %1$s/body;
          upstream backend {
            server 127.0.0.1:%3$d;
            keepalive 64;
            keepalive_requests 100000000;
            keepalive_timeout 300s;
          }
          server {
            listen 127.0.0.1:%2$d http2;
            keepalive_requests 100000000;
            keepalive_timeout 300s;
            location / { grpc_pass grpc://backend; }
          }
        }
        """.formatted(directory, listenPort, upstreamPort);
    Path file = write(directory.resolve("nginx.conf"), config);
    return start("nginx", directory, listenPort, List.of(executable("nginx"), "-c", file.toString(), "-p", directory.toString()));
  }

  /** haproxy with {@code proto h2} on the bind and server lines, and upstream connections shared across streams. */
  public static PeerProxy haproxy(Path directory, int listenPort, int upstreamPort) {
    return haproxy(directory, listenPort, "proto h2", upstreamPort, "proto h2");
  }

  /**
   * haproxy as {@link #haproxy(Path, int, int)}, with the given options on its bind line and its server line
   * (e.g. TLS: {@code ssl crt ... ca-file ... verify required alpn h2}).
   */
  public static PeerProxy haproxy(Path directory, int listenPort, String bindOptions, int upstreamPort,
      String serverOptions) {
    String config = """
        global
          maxconn 4096
        defaults
          mode http
          timeout connect 5s
          timeout client 300s
          timeout server 300s
          http-reuse always
        frontend grpc_in
          bind 127.0.0.1:%d %s
          default_backend grpc_out
        backend grpc_out
          server upstream 127.0.0.1:%d %s
        """.formatted(listenPort, bindOptions, upstreamPort, serverOptions);
    Path file = write(directory.resolve("haproxy.cfg"), config);
    return start("haproxy", directory, listenPort, List.of(executable("haproxy"), "-db", "-f", file.toString()));
  }

  public long pid() {
    return process.pid();
  }

  /** Milliseconds from the process start until its port accepted connections. */
  public long startToReadyMillis() {
    return startToReadyMillis;
  }

  public String name() {
    return process.name();
  }

  @Override
  public void close() {
    process.close();
  }

  private static PeerProxy start(String name, Path directory, int port, List<String> command) {
    long start = System.nanoTime();
    ChildProcess process = ChildProcess.start(name, command, Map.of(), directory.resolve(name + ".out"));
    try {
      return new PeerProxy(process, Topologies.awaitReadyMillis(name + " listens on " + port, start, process,
          () -> Readiness.listening(port)));
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }

  private static String executable(String name) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException(name + " is not installed; bench/run.sh installs it (apt-get install " + name + ")");
  }

  private static Path write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
