package io.taskmesh.e2e.capture;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for every listener of a pod, run inside a network namespace: {@code PortEcho name host:port...}
 * answers each connection with {@code name:port} of the listener that accepted it, then closes. Prints
 * {@code ready} once all are bound; exits when its standard input closes.
 */
public final class PortEcho {
  private PortEcho() {}

  public static void main(String[] args) throws IOException {
    String name = args[0];
    List<ServerSocket> sockets = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      int colon = args[i].lastIndexOf(':');
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(args[i].substring(0, colon), Integer.parseInt(args[i].substring(colon + 1))));
      sockets.add(socket);
    }
    for (ServerSocket socket : sockets) {
      Thread thread = new Thread(() -> serve(name, socket), "echo-" + socket.getLocalPort());
      thread.setDaemon(true);
      thread.start();
    }
    System.out.println("ready");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until the test closes our stdin
    }
  }

  private static void serve(String name, ServerSocket socket) {
    while (true) {
      try (Socket connection = socket.accept(); OutputStream out = connection.getOutputStream()) {
        out.write((name + ":" + socket.getLocalPort() + "\n").getBytes(StandardCharsets.US_ASCII));
      } catch (IOException e) {
        return;
      }
    }
  }
}
