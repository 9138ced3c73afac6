package io.taskmesh.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One nginx or haproxy process set up as a gRPC (HTTP/2 cleartext) hop, the way people run them in front
 * of gRPC services: HTTP/2 on both sides, upstream connections kept alive and reused.
 */
public final class PeerProxy implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path directory;

  private PeerProxy(String name, Process process, Path directory) {
    this.name = name;
    this.process = process;
    this.directory = directory;
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
          bind 127.0.0.1:%d proto h2
          default_backend grpc_out
        backend grpc_out
          server upstream 127.0.0.1:%d proto h2
        """.formatted(listenPort, upstreamPort);
    Path file = write(directory.resolve("haproxy.cfg"), config);
    return start("haproxy", directory, listenPort, List.of(executable("haproxy"), "-db", "-f", file.toString()));
  }

  public long pid() {
    return process.pid();
  }

  public String name() {
    return name;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static PeerProxy start(String name, Path directory, int port, List<String> command) {
    try {
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(directory.resolve(name + ".out").toFile())
          .start();
      PeerProxy proxy = new PeerProxy(name, process, directory);
      awaitListening(proxy, port);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + command + ")", e);
    }
  }

  private static void awaitListening(PeerProxy proxy, int port) {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < giveUp) {
      if (!proxy.process.isAlive()) {
        throw new IllegalStateException(proxy.name + " exited at start; see " + proxy.directory.resolve(proxy.name + ".out"));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        sleepBriefly();
      }
    }
    proxy.close();
    throw new IllegalStateException(proxy.name + " did not listen on " + port + " within 30 s");
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
