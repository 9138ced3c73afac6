package io.taskmesh.e2e.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.operator.inject.SidecarInjection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real proxy in a captured pod: the capture script installed in the pod's namespace, {@code taskmesh-proxy}
 * running there (as root, so the capture spares UID 0 as the proxy's), and "app" connections made as another UID.
 * What is not HTTP/2 is forwarded untouched to where it was going, in both directions, and counted.
 */
class CapturedTrafficTest {
  static final int APP_GRPC_PORT = 50051;
  static final int APP_OTHER_PORT = 7000;
  static final int PEER_DATABASE_PORT = 5433;
  static final int PEER_HTTP_PORT = 8088;
  static final long APP_UID = 2200;

  static PodNetwork net;
  @TempDir
  static Path files;

  @BeforeAll
  static void capturedPodWithItsProxy() throws Exception {
    PodNetwork.assumeAvailable();
    net = new PodNetwork("traffic", 1);
    var init = SidecarInjection.captureInit("taskmesh/proxy-init:test",
        SidecarInjection.Capture.inbound(APP_GRPC_PORT, APP_OTHER_PORT));
    assertThat(net.runCapture(init, Map.of("TASKMESH_PROXY_UID", "0"))).startsWith("0\n");
    net.echo(net.pod, "app", "127.0.0.1:" + APP_OTHER_PORT);
    net.echo(net.peer, "peer", "0.0.0.0:" + PEER_DATABASE_PORT, "0.0.0.0:" + PEER_HTTP_PORT);

    Path config = files.resolve("proxy.yaml");
    Files.writeString(config, """
        service: app
        namespace: default
        inbound: {appPort: %d}
        outbound: {discovery: {static: {}}}
        """.formatted(APP_GRPC_PORT));
    Path log = files.resolve("proxy.log");
    net.java(net.pod, List.of("io.taskmesh.sidecar.Main", "--config", config.toString()),
        ProcessBuilder.Redirect.appendTo(log.toFile()));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> !net.in(net.pod, metricsScript()).isEmpty());
  }

  @AfterAll
  static void stop() throws Exception {
    if (net != null) {
      net.close();
    }
  }

  @Test
  void aDatabaseConnectionOfTheAppReachesItsServerUntouchedAndIsCounted() throws Exception {
    double before = metric("taskmesh_tcp_sent_bytes_total", "outbound", PEER_DATABASE_PORT);

    assertThat(net.connectAs(APP_UID, net.pod, net.peerIp, PEER_DATABASE_PORT, "startup-message\\n"))
        .isEqualTo("peer:" + PEER_DATABASE_PORT);

    await().atMost(Duration.ofSeconds(30)).until(() ->
        metric("taskmesh_tcp_sent_bytes_total", "outbound", PEER_DATABASE_PORT) >= before + "startup-message\n".length());
    assertThat(metric("taskmesh_tcp_received_bytes_total", "outbound", PEER_DATABASE_PORT)).isPositive();
  }

  @Test
  void aServerThatSpeaksFirstIsForwardedAfterTheSniffingWait() throws Exception {
    assertThat(net.connectAs(APP_UID, net.pod, net.peerIp, PEER_DATABASE_PORT, ""))
        .isEqualTo("peer:" + PEER_DATABASE_PORT);
  }

  @Test
  void http11FromTheAppIsForwardedNeverAnswered426() throws Exception {
    assertThat(net.connectAs(APP_UID, net.pod, net.peerIp, PEER_HTTP_PORT, "GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
        .isEqualTo("peer:" + PEER_HTTP_PORT);
  }

  @Test
  void anotherPortOfThePodReachedFromOutsideGoesThroughTheProxyToTheApp() throws Exception {
    double before = metric("taskmesh_tcp_connections_total", "inbound", APP_OTHER_PORT);

    assertThat(net.connect(net.peer, net.podIp, APP_OTHER_PORT, "hello\\n")).isEqualTo("app:" + APP_OTHER_PORT);

    await().atMost(Duration.ofSeconds(30)).until(() ->
        metric("taskmesh_tcp_connections_total", "inbound", APP_OTHER_PORT) >= before + 1);
  }

  private static String metricsScript() {
    return "exec 3<>/dev/tcp/127.0.0.1/15000 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 10 cat <&3";
  }

  /** The sum of a counter's samples for one direction and port, read from the proxy's /metrics in the pod. */
  private static double metric(String name, String direction, int port) throws Exception {
    String text = net.in(net.pod, metricsScript());
    double sum = 0;
    Matcher samples = Pattern.compile("(?m)^" + name + "\\{([^}]*)\\} (\\S+)$").matcher(text);
    while (samples.find()) {
      if (samples.group(1).contains("direction=\"" + direction + "\"") && samples.group(1).contains("port=\"" + port + "\"")) {
        sum += Double.parseDouble(samples.group(2));
      }
    }
    return sum;
  }
}
