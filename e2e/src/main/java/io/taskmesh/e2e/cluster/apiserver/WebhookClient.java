package io.taskmesh.e2e.cluster.apiserver;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * POSTs an AdmissionReview to a webhook over HTTPS as the API server does: to the Service's address, trusting
 * only the webhook's caBundle (the JDK's roots when it is empty) and checking that the certificate names
 * {@code <service>.<namespace>.svc}, all within the webhook's timeout.
 */
final class WebhookClient {
  private WebhookClient() {}

  /** @return the response body of a 2xx answer; anything else is an {@link IOException} naming what failed */
  static String post(InetSocketAddress address, String serverName, String path, byte[] caBundlePem, String body,
      Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Socket raw = new Socket()) {
      raw.connect(address, (int) Math.max(1, timeout.toMillis()));
      raw.setSoTimeout(remaining(deadline));
      try (SSLSocket tls = (SSLSocket) context(caBundlePem).getSocketFactory()
          .createSocket(raw, serverName, address.getPort(), true)) {
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = tls.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: " + serverName + ":" + address.getPort()
            + "\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: " + content.length
            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(content);
        out.flush();
        tls.setSoTimeout(remaining(deadline));
        return readResponse(tls.getInputStream());
      }
    }
  }

  private static int remaining(long deadline) throws IOException {
    long millis = (deadline - System.nanoTime()) / 1_000_000;
    if (millis <= 0) {
      throw new IOException("context deadline exceeded");
    }
    return (int) millis;
  }

  private static String readResponse(InputStream in) throws IOException {
    String status = line(in);
    String[] parts = status.split(" ", 3);
    if (parts.length < 2) {
      throw new IOException("not an HTTP response: " + status);
    }
    int code = Integer.parseInt(parts[1]);
    long length = -1;
    boolean chunked = false;
    for (String header; !(header = line(in)).isEmpty(); ) {
      String lower = header.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(lower.substring(15).trim());
      } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      for (int size; (size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0; ) {
        body.write(in.readNBytes(size));
        line(in);
      }
    } else if (length >= 0) {
      body.write(in.readNBytes((int) length));
    } else {
      in.transferTo(body);
    }
    String text = body.toString(StandardCharsets.UTF_8);
    if (code / 100 != 2) {
      throw new IOException("the server responded with status " + code + ": " + text);
    }
    return text;
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("unexpected end of the response");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  private static SSLContext context(byte[] caBundlePem) throws IOException {
    try {
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (caBundlePem.length == 0) {
        trust.init((KeyStore) null);
      } else {
        KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
        roots.load(null, null);
        int index = 0;
        for (Certificate certificate : CertificateFactory.getInstance("X.509")
            .generateCertificates(new ByteArrayInputStream(caBundlePem))) {
          roots.setCertificateEntry("ca-" + index++, certificate);
        }
        trust.init(roots);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("caBundle: " + e.getMessage(), e);
    }
  }
}
