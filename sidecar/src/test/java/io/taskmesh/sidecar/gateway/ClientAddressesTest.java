package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.ForwardedForTrust;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
  private static final String SPOOFED_THEN_REAL = "1.2.3.4, 203.0.113.7";

  @Test
  void withNoTrustTheHeaderIsIgnoredAndThePeerIsTheClient() throws Exception {
    ClientAddresses clients = new ClientAddresses(ForwardedForTrust.NONE);
    assertThat(clients.of(InetAddress.getByName("198.51.100.9"), SPOOFED_THEN_REAL)).isEqualTo("198.51.100.9");
  }

  @Test
  void trustedHopsCountFromTheRight() throws Exception {
    InetAddress loadBalancer = InetAddress.getByName("10.0.0.2");
    assertThat(new ClientAddresses(new ForwardedForTrust(1, List.of())).of(loadBalancer, SPOOFED_THEN_REAL))
        .isEqualTo("203.0.113.7");
    // two proxies in front: the first appended the client, the second the first proxy
    assertThat(new ClientAddresses(new ForwardedForTrust(2, List.of())).of(loadBalancer, "9.9.9.9, 203.0.113.7, 10.0.0.7"))
        .isEqualTo("203.0.113.7");
    // fewer entries than trusted hops: the header is not what the proxies would write, so the peer counts
    assertThat(new ClientAddresses(new ForwardedForTrust(2, List.of())).of(loadBalancer, "203.0.113.7"))
        .isEqualTo("10.0.0.2");
  }

  @Test
  void trustedProxiesAreSkippedFromTheRightAndOnlyAPeerAmongThemIsBelieved() throws Exception {
    ClientAddresses clients = new ClientAddresses(new ForwardedForTrust(0, List.of("10.0.0.0/8")));
    assertThat(clients.of(InetAddress.getByName("10.1.1.1"), "1.2.3.4, 203.0.113.7, 10.9.9.9")).isEqualTo("203.0.113.7");
    assertThat(clients.of(InetAddress.getByName("198.51.100.9"), SPOOFED_THEN_REAL)).isEqualTo("198.51.100.9");
    assertThat(clients.of(InetAddress.getByName("10.1.1.1"), "not-an-address")).isEqualTo("10.1.1.1");
  }

  @Test
  void anIpv6ClientIsItsSlash64SoRotatingWithinItGainsNothing() throws Exception {
    ClientAddresses clients = new ClientAddresses(ForwardedForTrust.NONE);
    String one = clients.of(InetAddress.getByName("2001:db8:1:2::1"), null);
    String other = clients.of(InetAddress.getByName("2001:db8:1:2:ffff:eeee:dddd:cccc"), null);
    assertThat(one).isEqualTo(other).isEqualTo("2001:db8:1:2:0:0:0:0/64");
    assertThat(clients.of(InetAddress.getByName("2001:db8:1:3::1"), null)).isNotEqualTo(one);
    assertThat(clients.of(InetAddress.getByName("::ffff:192.0.2.1"), null)).isEqualTo("192.0.2.1");
  }
}
