package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.operator.OperatorSettings;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook as the operator runs it: a serving certificate (managed in a Secret, or mounted), the HTTPS
 * server, and the caBundle of the MutatingWebhookConfiguration kept equal to the CA. Every replica runs it
 * (it is not behind leader election); every {@link #REFRESH} the certificate is re-read, so a rotation by
 * one replica reaches the others without a restart.
 */
public final class InjectionWebhook implements AutoCloseable {
  /** Short, so that a caBundle lost to a re-applied webhook configuration is back soon; a check is two GETs. */
  static final Duration REFRESH = Duration.ofMinutes(10);
  private static final Logger log = LoggerFactory.getLogger(InjectionWebhook.class);

  private final KubernetesClient client;
  private final WebhookSettings settings;
  private final Clock clock;
  private final ReloadableKeyManager keys;
  private final CaBundlePatcher caBundle;
  private final WebhookServer server;
  private final ScheduledExecutorService refresher;
  private final NamespaceLabels namespaces;

  private InjectionWebhook(KubernetesClient client, OperatorSettings operatorSettings, WebhookSettings settings,
      Clock clock, WebhookMetrics metrics) throws IOException {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    ServingCertificate certificate = certificate();
    this.keys = new ReloadableKeyManager(certificate);
    this.caBundle = new CaBundlePatcher(client, settings.configName());
    publish(certificate);
    this.namespaces = NamespaceLabels.start(client);
    this.server = WebhookServer.start(settings.bindAddress(), settings.port(), keys.sslContext(),
        new SidecarInjector(client, operatorSettings, namespaces), metrics);
    this.refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "webhook-certificate");
      thread.setDaemon(true);
      return thread;
    });
    refresher.scheduleWithFixedDelay(this::refresh, REFRESH.toMinutes(), REFRESH.toMinutes(), TimeUnit.MINUTES);
  }

  public static InjectionWebhook start(KubernetesClient client, OperatorSettings operatorSettings,
      WebhookSettings settings, Clock clock, WebhookMetrics metrics) throws IOException {
    InjectionWebhook webhook = new InjectionWebhook(client, operatorSettings, settings, clock, metrics);
    String source = settings.certManaged() ? "secret " + settings.certSecret() : "mounted " + settings.certDir();
    log.info("event=webhook_started port={} certificate={} config={}", webhook.port(), source, settings.configName());
    return webhook;
  }

  public int port() {
    return server.port();
  }

  /** Re-reads (and if due, rotates) the certificate, serves it and brings the caBundle up to date. */
  public void refresh() {
    try {
      ServingCertificate certificate = certificate();
      keys.use(certificate);
      publish(certificate);
    } catch (RuntimeException e) {
      log.warn("event=webhook_certificate_refresh_failed error=\"{}\"", e.toString());
    }
  }

  private ServingCertificate certificate() {
    return settings.certManaged()
        ? CertificateStore.managed(client, settings, clock)
        : CertificateStore.mounted(settings.certDir());
  }

  private void publish(ServingCertificate certificate) {
    if (!settings.certManaged() && !CertificateStore.hasCa(settings.certDir())) {
      return;
    }
    if (!caBundle.patch(certificate.caBundle())) {
      log.warn("event=webhook_config_missing name={} hint=\"the chart creates it; the next refresh sets caBundle\"",
          settings.configName());
    }
  }

  @Override
  public void close() {
    refresher.shutdownNow();
    server.close();
    namespaces.close();
  }
}
