package io.taskmesh.bench.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark runs end to end with both engines (a few handshakes, one MiB), so it cannot rot. */
class TlsEngineBenchTest {

  @Test
  void bothEnginesHandshakeAndEchoWithTheSidecarsContexts() throws Exception {
    List<TlsEngineBench.Round> rounds = TlsEngineBench.run(1, 3, 1, List.of(SslProvider.JDK, SslProvider.OPENSSL));

    assertThat(rounds).extracting(TlsEngineBench.Round::provider).containsExactly(SslProvider.JDK, SslProvider.OPENSSL);
    assertThat(rounds).allSatisfy(round -> {
      assertThat(round.handshakesPerSecond()).isPositive();
      assertThat(round.megabytesPerSecond()).isPositive();
    });
  }
}
