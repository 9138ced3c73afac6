package io.taskmesh.e2e.cluster.apiserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS in front of the mock API server, which can only present a self-signed certificate of its own: accepts
 * TLS with the cluster's serving certificate on one address and pipes the plain bytes to the mock on loopback
 * (HTTP/1.1, watches and WebSocket upgrades included, since the bytes pass through untouched).
 */
final class TlsTerminator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsTerminator.class);

  private final SSLServerSocket server;
  private final InetSocketAddress backend;
  private final ExecutorService pumps = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "apiserver-tls");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  TlsTerminator(SSLContext tls, InetAddress address, int port, InetSocketAddress backend) throws IOException {
    this.backend = backend;
    this.server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, port), 128);
    pumps.execute(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        pumps.execute(() -> connect(client));
      } catch (IOException e) {
        if (!server.isClosed()) {
          log.warn("event=apiserver_accept_failed error={}", e.toString());
        }
      }
    }
  }

  private void connect(Socket client) {
    try {
      Socket upstream = new Socket();
      upstream.connect(backend, 5_000);
      upstream.setTcpNoDelay(true);
      client.setTcpNoDelay(true);
      open.add(client);
      open.add(upstream);
      pumps.execute(() -> pump(upstream, client));
      pump(client, upstream);
    } catch (IOException e) {
      closeQuietly(client);
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int read; (read = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, read);
        out.flush();
      }
    } catch (IOException e) {
      // either side went away: the other is closed below
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private void closeQuietly(Socket socket) {
    open.remove(socket);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    open.forEach(this::closeQuietly);
    pumps.shutdownNow();
  }
}
