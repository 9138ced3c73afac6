package io.taskmesh.e2e.zipkin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real Zipkin server (its exec jar) as a child process, with in-memory storage. */
public final class ZipkinServer implements AutoCloseable {
  private final Process process;
  private final String address;
  private final int port;

  private ZipkinServer(Process process, String address, int port) {
    this.process = process;
    this.address = address;
    this.port = port;
  }

  /** Starts Zipkin and waits until its /health answers UP, for at most {@code startTimeout}. */
  public static ZipkinServer start(Path jar, int port, Path log, Duration startTimeout) {
    return start(jar, "127.0.0.1", port, log, startTimeout);
  }

  /** Starts Zipkin on {@code address} (an IP literal) and waits as {@link #start(Path, int, Path, Duration)} does. */
  public static ZipkinServer start(Path jar, String address, int port, Path log, Duration startTimeout) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no Zipkin server jar at " + jar + "; the e2e module's build fetches it");
    }
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", jar.toString(),
        "--armeria.ports[0].port=" + port,
        "--armeria.ports[0].ip=" + address,
        "--armeria.ports[0].protocols=http",
        "--logging.level.root=WARN");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      ZipkinServer server = new ZipkinServer(process, address, port);
      server.awaitHealthy(startTimeout, log);
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Zipkin from " + jar, e);
    }
  }

  public URI baseUri() {
    return URI.create("http://" + address + ":" + port);
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  private void awaitHealthy(Duration timeout, Path log) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest health = HttpRequest.newBuilder(baseUri().resolve("/health")).timeout(Duration.ofSeconds(2)).build();
    long giveUp = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < giveUp) {
      if (!process.isAlive()) {
        throw new IllegalStateException("Zipkin exited while starting; see " + log);
      }
      try {
        if (client.send(health, HttpResponse.BodyHandlers.ofString()).body().contains("\"UP\"")) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      pause();
    }
    close();
    throw new IllegalStateException("Zipkin did not become healthy within " + timeout + "; see " + log);
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
