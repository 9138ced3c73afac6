package io.taskmesh.sidecar.identity;

import io.taskmesh.sidecar.config.WatchedFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mounted trust bundle, kept current: when the operator publishes other anchors (an anchor rotation adds the
 * new one beside the old, later drops the old), the kubelet swaps the file, and its anchors are what new handshakes
 * check peers, the issuer and the control plane against; connections already open are left as they are. A new file
 * that holds no certificate is refused with a log line and the anchors in force stay.
 */
public final class TrustBundleFile implements AutoCloseable {
  /** How often the file is looked at; the kubelet itself updates a mounted ConfigMap about once a minute. */
  public static final Duration CHECK_EVERY = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(TrustBundleFile.class);
  private final Path file;
  private final AtomicReference<List<X509Certificate>> anchors;
  private final List<Consumer<List<X509Certificate>>> listeners = new CopyOnWriteArrayList<>();
  private final WatchedFiles watch;

  /** @throws IOException when the file cannot be read or holds no certificate; the message names the file */
  public TrustBundleFile(Path file, Duration interval) throws IOException {
    this.file = file;
    byte[] content = Files.readAllBytes(file);
    this.anchors = new AtomicReference<>(parse(content));
    this.watch = new WatchedFiles("trust-bundle", List.of(file), List.of(content), interval,
        contents -> reload(contents.get(0)));
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
      log.error("event=trust_bundle_rejected file={} error=\"{}\" (keeping the {} anchors in force)", file,
          e.getMessage(), anchors.get().size());
      return;
    }
    listeners.forEach(listener -> listener.accept(fresh));
    anchors.set(fresh);  // after the listeners: once anchors() shows them, every context uses them
    log.info("event=trust_bundle_reloaded file={} anchors={}", file, fresh.stream()
        .map(anchor -> anchor.getSubjectX500Principal().getName()).toList());
  }

  private List<X509Certificate> parse(byte[] pem) throws IOException {
    try {
      List<X509Certificate> parsed = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem)).stream().map(X509Certificate.class::cast).toList();
      if (parsed.isEmpty()) {
        throw new IOException("trust bundle " + file + " holds no certificate");
      }
      return parsed;
    } catch (CertificateException e) {
      throw new IOException("trust bundle " + file + " is not PEM certificates: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    watch.close();
  }
}
