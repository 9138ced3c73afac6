package io.taskmesh.e2e.cluster.apiserver;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS in front of the mock API server, which can only present a self-signed certificate of its own and runs
 * every request on one event loop. Accepts TLS with the cluster's serving certificate, reads each HTTP/1.1
 * request, lets {@link FrontAdmission} handle the ones that call out (mutating webhooks, which may call back
 * into the API server and so must not run on that event loop), and passes each request to the mock on a
 * connection of its own, relaying the answer; watches and WebSocket upgrades pass through as a byte stream.
 */
final class TlsTerminator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsTerminator.class);
  private static final int MAX_HEAD = 64 * 1024;

  private final SSLServerSocket server;
  private final InetSocketAddress backend;
  private final FrontAdmission admission;
  private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "apiserver-front");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  TlsTerminator(SSLContext tls, InetAddress address, int port, InetSocketAddress backend, FrontAdmission admission)
      throws IOException {
    this.backend = backend;
    this.admission = admission;
    this.server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, port), 128);
    threads.execute(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        open.add(client);
        threads.execute(() -> serve(client));
      } catch (IOException e) {
        if (!server.isClosed()) {
          log.warn("event=apiserver_accept_failed error={}", e.toString());
        }
      }
    }
  }

  /** One client connection: requests one after another, each relayed on a backend connection of its own. */
  private void serve(Socket client) {
    try (client) {
      client.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(client.getInputStream());
      OutputStream out = client.getOutputStream();
      for (List<String> head; (head = readHead(in)) != null; ) {
        boolean upgrade = header(head, "upgrade") != null;
        byte[] body = upgrade ? new byte[0] : readBody(in, head);
        String[] requestLine = head.get(0).split(" ");
        if (upgrade) {
          tunnel(head, in, client);
          return;
        }
        FrontAdmission.Result admitted = admission.admit(requestLine[0], requestLine[1], body);
        if (admitted.refusal() != null) {
          respond(out, admitted.refusal());
          continue;
        }
        relay(head, admitted.body(), out);
      }
    } catch (IOException e) {
      // the client or the backend went away
    } finally {
      open.remove(client);
    }
  }

  private void relay(List<String> head, byte[] body, OutputStream out) throws IOException {
    try (Socket upstream = new Socket()) {
      open.add(upstream);
      upstream.connect(backend, 5_000);
      upstream.setTcpNoDelay(true);
      OutputStream toBackend = upstream.getOutputStream();
      StringBuilder request = new StringBuilder(head.get(0)).append("\r\n");
      for (String line : head.subList(1, head.size())) {
        String name = line.substring(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase(Locale.ROOT);
        if (!Set.of("content-length", "transfer-encoding", "connection").contains(name)) {
          request.append(line).append("\r\n");
        }
      }
      request.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
      toBackend.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      toBackend.write(body);
      toBackend.flush();
      upstream.getInputStream().transferTo(out);
      out.flush();
    } finally {
      open.removeIf(Socket::isClosed);
    }
  }

  private void tunnel(List<String> head, InputStream clientIn, Socket client) throws IOException {
    Socket upstream = new Socket();
    open.add(upstream);
    upstream.connect(backend, 5_000);
    OutputStream toBackend = upstream.getOutputStream();
    toBackend.write((String.join("\r\n", head) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    toBackend.flush();
    threads.execute(() -> pump(upstream, client));
    try {
      clientIn.transferTo(toBackend);
    } finally {
      upstream.close();
      open.remove(upstream);
    }
  }

  private static void pump(Socket from, Socket to) {
    try {
      from.getInputStream().transferTo(to.getOutputStream());
    } catch (IOException e) {
      // either side went away
    } finally {
      try {
        to.close();
        from.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  private static void respond(OutputStream out, io.fabric8.mockwebserver.http.MockResponse response) throws IOException {
    byte[] body = response.getBody() == null ? new byte[0] : response.getBody().getBytes();
    out.write(("HTTP/1.1 " + response.code() + " " + (response.code() < 400 ? "OK" : "Error")
        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    out.write(body);
    out.flush();
  }

  private static List<String> readHead(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int total = 0;
    for (int b; (b = in.read()) >= 0; ) {
      if (++total > MAX_HEAD) {
        throw new IOException("request head too large");
      }
      if (b == '\n') {
        String text = line.toString(StandardCharsets.ISO_8859_1);
        line.reset();
        if (text.endsWith("\r")) {
          text = text.substring(0, text.length() - 1);
        }
        if (text.isEmpty()) {
          if (lines.isEmpty()) {
            continue;
          }
          return lines;
        }
        lines.add(text);
      } else {
        line.write(b);
      }
    }
    return null;
  }

  private static byte[] readBody(InputStream in, List<String> head) throws IOException {
    String length = header(head, "content-length");
    if (length != null) {
      return in.readNBytes(Integer.parseInt(length.trim()));
    }
    String encoding = header(head, "transfer-encoding");
    if (encoding == null || !encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
      return new byte[0];
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      StringBuilder size = new StringBuilder();
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) {
          throw new IOException("unexpected end of a chunked body");
        }
        if (b != '\r') {
          size.append((char) b);
        }
      }
      int chunk = Integer.parseInt(size.toString().split(";")[0].trim(), 16);
      if (chunk == 0) {
        while (readLine(in).length() > 0) {
          // trailers
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(chunk));
      readLine(in);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("unexpected end of the request");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  private static String header(List<String> head, String name) {
    for (String line : head.subList(1, head.size())) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    for (Socket socket : open) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    threads.shutdownNow();
  }
}
