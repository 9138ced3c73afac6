package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.identity.v1.CertifyResponse;
import io.taskmesh.identity.v1.IssuerGrpc;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.Csrs;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerClients;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.Pem;
import io.taskmesh.operator.identity.TokenReviews;
import io.taskmesh.operator.route.RouteTables;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Discovery with identity on, over real TLS on 127.0.0.1: each peer presents a workload certificate the
 * operator's issuer signed, and what it may read and acknowledge is bounded by the identity it proves.
 */
@EnableKubernetesMockClient(crud = true)
class AuthenticatedDiscoveryTest {
  private static final Duration BOUND = Duration.ofSeconds(30);
  private static final ServiceKey SHOP_TASKS = new ServiceKey("tasks", "shop");
  private static final ServiceKey BANK_LEDGER = new ServiceKey("ledger", "bank");

  static KubernetesClient client;
  static KubernetesMockServer server;

  private final List<AutoCloseable> started = new ArrayList<>();
  private final EndpointRegistry registry = new EndpointRegistry();
  private final AuthorizationTables authorization = new AuthorizationTables();
  private IssuerServer issuer;
  private DiscoveryServer discovery;

  @BeforeEach
  void start() {
    TokenReviews.answer(server, Map.of("shop-web", new TokenReviews.Token("shop", "web", List.of("taskmesh"))));
    issuer = IssuerServer.start(client, new IdentitySettings(true, "mesh.test", "127.0.0.1", 0, "taskmesh-system",
        "taskmesh-operator", "taskmesh-operator", "discovery-anchor", true, Duration.ofHours(24)), Clock.systemUTC());
    PodAcks acks = new PodAcks(client);
    started.add(acks);
    discovery = DiscoveryServer.start("127.0.0.1", 0, registry, new RouteTables(), authorization, acks,
        DiscoveryLimits.DEFAULTS, new SimpleMeterRegistry(), Optional.of(issuer.mutualTls()));
    registry.update(SHOP_TASKS, List.of(DiscoveryServiceTest.endpoint("10.0.0.1")));
    registry.update(BANK_LEDGER, List.of(DiscoveryServiceTest.endpoint("10.7.0.1")));
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    discovery.close();
    issuer.close();
  }

  @Test
  void aPeerOfNamespaceShopAskingForBankServiceIsRefusedAndGetsOnlyItsOwnNamespace() throws Exception {
    DiscoveryClientFixture web = subscribe(channelAs("shop-web"), request("shop", "tasks", "ledger.bank"));

    await().atMost(BOUND).until(() -> web.latest("tasks") != null && web.latest("ledger.bank") != null);
    assertThat(web.latest("tasks").getEndpointsCount()).isEqualTo(1);
    EndpointSet refused = web.latest("ledger.bank");
    assertThat(refused.getUnknown()).isTrue();
    assertThat(refused.getEndpointsCount()).isZero();
    assertThat(refused.getDenied()).contains("PERMISSION_DENIED", "spiffe://mesh.test/ns/shop/sa/web",
        "ledger.bank");

    registry.update(BANK_LEDGER, List.of(DiscoveryServiceTest.endpoint("10.7.0.2")));
    registry.update(SHOP_TASKS, List.of(DiscoveryServiceTest.endpoint("10.0.0.2")));
    await().atMost(BOUND).until(() -> web.latest("tasks").getEndpoints(0).getAddress().equals("10.0.0.2"));
    assertThat(web.received).as("a change of the refused service sends it nothing")
        .filteredOn(set -> set.getService().equals("ledger.bank")).allMatch(EndpointSet::getUnknown);
  }

  @Test
  void aPolicyAllowingTheNamespaceOpensTheServiceToIt() throws Exception {
    authorization.update(BANK_LEDGER, InboundAuthorization.newBuilder().setHash("p1").setDefaultDeny(true)
        .addRules(AuthorizationRule.newBuilder().setPolicy("bank/shop-reads")
            .addFrom(CallerMatch.newBuilder().setNamespace("shop")))
        .build());

    DiscoveryClientFixture web = subscribe(channelAs("shop-web"), request("shop", "ledger.bank"));

    await().atMost(BOUND).until(() -> web.latest("ledger.bank") != null);
    assertThat(web.latest("ledger.bank").getEndpointsList()).extracting(e -> e.getAddress()).containsExactly("10.7.0.1");
  }

  @Test
  void aNodeClaimingAnotherNamespaceThanItsCertificateIsRefused() throws Exception {
    DiscoveryClientFixture forged = subscribe(channelAs("shop-web"), request("bank", "ledger"));

    await().atMost(BOUND).until(() -> forged.ended.get() != null);
    assertThat(forged.ended.get().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(forged.ended.get().getDescription())
        .contains("node.namespace: 'bank' is not the namespace of peer spiffe://mesh.test/ns/shop/sa/web");
    assertThat(forged.received).isEmpty();
  }

  @Test
  void aPeerWithoutACertificateCannotSubscribe() throws Exception {
    ManagedChannel anonymous = closeLater(NettyChannelBuilder.forAddress("127.0.0.1", discovery.port(),
            TlsChannelCredentials.newBuilder().trustManager(anchorsPem()).build())
        .overrideAuthority("taskmesh-operator.taskmesh-system.svc").build());
    DiscoveryClientFixture nobody = subscribe(anonymous, request("shop", "tasks"));

    await().atMost(BOUND).until(() -> nobody.ended.get() != null);
    assertThat(nobody.ended.get().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(nobody.received).isEmpty();
  }

  @Test
  void aSidecarGetsItsOwnServicesAuthorizationAndAcksOnlyForAPodOfItsServiceAccount() throws Exception {
    for (String[] pod : new String[][] {{"web-1", "web"}, {"admin-1", "admin"}}) {
      client.resource(new PodBuilder().withNewMetadata().withName(pod[0]).withNamespace("shop").endMetadata()
          .withNewSpec().withServiceAccountName(pod[1]).addNewContainer().withName("app").withImage("x").endContainer()
          .endSpec().build()).create();
    }
    authorization.update(SHOP_TASKS, InboundAuthorization.newBuilder().setHash("t1").setDefaultDeny(true).build());
    ManagedChannel channel = channelAs("shop-web");

    Node web1 = Node.newBuilder().setPodName("web-1").setNamespace("shop").setService("tasks").setConfigHash("c1")
        .build();
    DiscoveryClientFixture own = subscribe(channel, SubscribeRequest.newBuilder().setNode(web1).build());
    DiscoveryClientFixture other = subscribe(channel, SubscribeRequest.newBuilder().setNode(Node.newBuilder()
        .setPodName("admin-1").setNamespace("shop").setService("tasks").setConfigHash("c1").setAuthorizationHash("t1"))
        .build());

    await().atMost(BOUND).until(() -> own.received.stream().anyMatch(EndpointSet::hasAuthorization));
    assertThat(own.received.stream().filter(EndpointSet::hasAuthorization).findFirst().orElseThrow()
        .getAuthorization().getHash()).isEqualTo("t1");
    own.send(SubscribeRequest.newBuilder().setNode(web1.toBuilder().setAuthorizationHash("t1")).build());
    await().atMost(BOUND).until(() -> annotations("web-1").containsKey(PodAcks.AUTHORIZATION_ANNOTATION));
    assertThat(annotations("web-1")).containsEntry(PodAcks.APPLIED_ANNOTATION, "c1");
    await().during(Duration.ofSeconds(1)).atMost(BOUND).until(() -> other.ended.get() == null);
    assertThat(annotations("admin-1")).as("the web ServiceAccount may not ack for the admin pod")
        .doesNotContainKey(PodAcks.APPLIED_ANNOTATION).doesNotContainKey(PodAcks.AUTHORIZATION_ANNOTATION);

    authorization.update(SHOP_TASKS, InboundAuthorization.newBuilder().setHash("t2").setUnrestricted(true).build());
    await().atMost(BOUND).until(() -> own.received.stream().filter(EndpointSet::hasAuthorization)
        .anyMatch(set -> set.getAuthorization().getUnrestricted()));
  }

  private Map<String, String> annotations(String pod) {
    Map<String, String> found = client.pods().inNamespace("shop").withName(pod).get().getMetadata().getAnnotations();
    return found == null ? Map.of() : found;
  }

  private static SubscribeRequest request(String namespace, String... services) {
    return SubscribeRequest.newBuilder().setNode(Node.newBuilder().setPodName("web-1").setNamespace(namespace)
        .setService("web").setConfigHash("c1")).addAllServices(List.of(services)).build();
  }

  private DiscoveryClientFixture subscribe(ManagedChannel channel, SubscribeRequest first) {
    return closeLater(new DiscoveryClientFixture(channel, first));
  }

  /** A TLS channel presenting a workload certificate the issuer signed for the token's ServiceAccount. */
  private ManagedChannel channelAs(String token) throws Exception {
    KeyPair key = Certificates.newKeyPair();
    ManagedChannel toIssuer = IssuerClients.channelTrusting(issuer.trustAnchors(), issuer.port());
    CertifyResponse answer;
    try {
      answer = IssuerGrpc.newBlockingStub(toIssuer).withDeadlineAfter(20, TimeUnit.SECONDS)
          .certify(IssuerClients.request(Csrs.askingFor(key, "spiffe://mesh.test/ns/shop/sa/web"), token));
    } finally {
      toIssuer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    List<X509Certificate> chain = IssuerClients.certificates(answer.getChainList());
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("workload", key.getPrivate(), new char[0], chain.toArray(X509Certificate[]::new));
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, new char[0]);
    return closeLater(NettyChannelBuilder.forAddress("127.0.0.1", discovery.port(), TlsChannelCredentials.newBuilder()
            .keyManager(keys.getKeyManagers()).trustManager(anchorsPem()).build())
        .overrideAuthority("taskmesh-operator.taskmesh-system.svc").build());
  }

  private ByteArrayInputStream anchorsPem() {
    return new ByteArrayInputStream(Pem.certificates(issuer.trustAnchors()).getBytes(StandardCharsets.US_ASCII));
  }

  private <T> T closeLater(T resource) {
    if (resource instanceof ManagedChannel channel) {
      started.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    } else {
      started.add((AutoCloseable) resource);
    }
    return resource;
  }
}
