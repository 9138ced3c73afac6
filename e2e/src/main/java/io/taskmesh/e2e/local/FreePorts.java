package io.taskmesh.e2e.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A port nobody listens on right now, on 127.0.0.1, for a server started a moment later. Taken below the
 * kernel's ephemeral range (32768-60999 by default): a port the kernel handed out for an outgoing
 * connection in between could otherwise make the server fail to bind. Never the same port twice per JVM.
 */
public final class FreePorts {
  private static final int LOWEST = 20_000;
  private static final int HIGHEST = 32_000;
  private static final java.util.Set<Integer> handedOut = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  public static int next() {
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, HIGHEST);
      if (handedOut.contains(port)) {
        continue;
      }
      try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        socket.setReuseAddress(true);
        if (handedOut.add(port)) {
          return port;
        }
      } catch (IOException taken) {
        // someone listens there: try another
      }
    }
    throw new IllegalStateException("no free port on 127.0.0.1 between " + LOWEST + " and " + HIGHEST);
  }
}
