package io.taskmesh.sidecar.identity;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.sidecar.config.WatchedFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mounted trust bundle, kept current: when the operator publishes other anchors (an anchor rotation adds the
 * new one beside the old, later drops the old), the kubelet swaps the file, and its anchors are what new handshakes
 * check peers, the issuer and the control plane against; connections already open are left as they are.
 *
 * <p>A new file that is not PEM certificates, holds none, or holds only expired ones, and a file that can no longer
 * be read, are refused with a log line naming the file and the fault, and counted in
 * {@code taskmesh_trust_bundle_reloads_total{result="rejected"}}: the anchors in force stay, so TLS goes on with
 * the last good bundle. Each accepted new file counts as {@code result="accepted"}.
 */
public final class TrustBundleFile implements AutoCloseable {
  /** How often the file is looked at; the kubelet itself updates a mounted ConfigMap about once a minute. */
  public static final Duration CHECK_EVERY = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(TrustBundleFile.class);
  private final Path file;
  private final Clock clock;
  private final AtomicReference<List<X509Certificate>> anchors;
  private final List<Consumer<List<X509Certificate>>> listeners = new CopyOnWriteArrayList<>();
  private final Counter accepted;
  private final Counter rejected;
  private final WatchedFiles watch;

  /** @throws IOException when the file cannot be read or is refused as a new one would be; the message names it */
  public TrustBundleFile(Path file, Duration interval, Clock clock, MeterRegistry registry) throws IOException {
    this.file = file;
    this.clock = clock;
    byte[] content = Files.readAllBytes(file);
    this.anchors = new AtomicReference<>(parse(content));
    this.accepted = reloads(registry, "accepted");
    this.rejected = reloads(registry, "rejected");
    this.watch = new WatchedFiles("trust-bundle", List.of(file), List.of(content), interval,
        contents -> reload(contents.get(0)), this::unreadable);
  }

  public List<X509Certificate> anchors() {
    return anchors.get();
  }

  /** {@code listener} is given the anchors of every accepted new file, on the watcher's thread. */
  public void onChange(Consumer<List<X509Certificate>> listener) {
    listeners.add(listener);
  }

  private void reload(byte[] content) {
    List<X509Certificate> fresh;
    try {
      fresh = parse(content);
    } catch (IOException e) {
      rejected.increment();
      log.error("event=trust_bundle_rejected file={} error=\"{}\" (keeping the {} anchors in force)", file,
          e.getMessage(), anchors.get().size());
      return;
    }
    listeners.forEach(listener -> listener.accept(fresh));
    anchors.set(fresh);  // after the listeners: once anchors() shows them, every context uses them
    accepted.increment();
    log.info("event=trust_bundle_reloaded file={} anchors={}", file, fresh.stream()
        .map(anchor -> anchor.getSubjectX500Principal().getName()).toList());
  }

  private void unreadable(IOException e) {
    rejected.increment();
    log.error("event=trust_bundle_unreadable file={} error=\"{}\" (keeping the {} anchors in force)", file, e,
        anchors.get().size());
  }

  private List<X509Certificate> parse(byte[] pem) throws IOException {
    List<X509Certificate> parsed;
    try {
      parsed = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem)).stream().map(X509Certificate.class::cast).toList();
    } catch (CertificateException e) {
      throw new IOException("trust bundle " + file + " is not PEM certificates: " + e.getMessage(), e);
    }
    if (parsed.isEmpty()) {
      throw new IOException("trust bundle " + file + " holds no certificate");
    }
    if (parsed.stream().allMatch(anchor -> anchor.getNotAfter().toInstant().isBefore(clock.instant()))) {
      throw new IOException("trust bundle " + file + " holds only expired certificates (the last expired at "
          + parsed.stream().map(anchor -> anchor.getNotAfter().toInstant()).max(Comparator.naturalOrder())
              .orElseThrow() + ")");
    }
    return parsed;
  }

  private static Counter reloads(MeterRegistry registry, String result) {
    return Counter.builder("taskmesh.trust.bundle.reloads").tag("result", result)
        .description("New contents of the mounted trust bundle, taken or refused (refused: the anchors in force stay)")
        .register(registry);
  }

  @Override
  public void close() {
    watch.close();
  }
}
