package io.taskmesh.e2e.local;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Polls until something is up, with a bound; says what it waited for when the bound runs out. */
public final class Readiness {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private Readiness() {}

  /**
   * Waits for {@code condition}, but stops at once when any of {@code watched} (every child started so far)
   * exits, naming that child and quoting its last log lines rather than blaming what was awaited.
   */
  public static void await(String what, Duration bound, List<ChildProcess> watched, BooleanSupplier condition) {
    long giveUp = System.nanoTime() + bound.toNanos();
    while (System.nanoTime() < giveUp) {
      for (ChildProcess child : watched) {
        if (!child.isAlive()) {
          throw new IllegalStateException("stopped while waiting until " + what + ": " + child.exitReport(20));
        }
      }
      if (condition.getAsBoolean()) {
        return;
      }
      pause();
    }
    throw new IllegalStateException("timed out after " + bound.toSeconds() + " s waiting until " + what
        + "; logs: " + watched.stream().map(child -> child.log().toString()).toList());
  }

  public static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public static boolean answers200(URI uri) {
    try {
      HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public static String get(URI uri) {
    try {
      return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot GET " + uri, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
