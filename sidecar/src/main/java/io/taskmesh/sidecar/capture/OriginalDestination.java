package io.taskmesh.sidecar.capture;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;
import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Where a connection was headed before the pod's capture (iptables REDIRECT) sent it to this proxy: Linux keeps
 * it in the connection's NAT entry, read with {@code getsockopt(SOL_IP, SO_ORIGINAL_DST)} on the accepted socket.
 * Netty does not expose that option, so it is called through JNA on the epoll channel's file descriptor. A
 * connection that was not redirected (dialled to the listener itself) has none.
 */
public final class OriginalDestination {
  private static final int SOL_IP = 0;
  private static final int SO_ORIGINAL_DST = 80;
  private static final int AF_INET = 2;
  private static final int SOCKADDR_IN_SIZE = 16;
  private static final LibC LIBC = load();

  interface LibC extends Library {
    int getsockopt(int fd, int level, int name, byte[] value, IntByReference length);
  }

  private OriginalDestination() {}

  /** The IPv4 address and port the client dialled, when the connection was redirected to this proxy. */
  public static Optional<InetSocketAddress> of(Channel channel) {
    if (LIBC == null || !(channel instanceof UnixChannel unix) || !unix.fd().isOpen()) {
      return Optional.empty();
    }
    byte[] address = new byte[SOCKADDR_IN_SIZE];
    IntByReference length = new IntByReference(SOCKADDR_IN_SIZE);
    if (LIBC.getsockopt(unix.fd().intValue(), SOL_IP, SO_ORIGINAL_DST, address, length) != 0) {
      return Optional.empty(); // no NAT entry: not redirected
    }
    int family = (address[0] & 0xff) | (address[1] & 0xff) << 8; // sa_family_t, host byte order (little endian)
    if (family != AF_INET) {
      return Optional.empty();
    }
    int port = (address[2] & 0xff) << 8 | (address[3] & 0xff); // network byte order
    InetSocketAddress original;
    try {
      original = new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(address, 4, 8)), port);
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
    return original.equals(channel.localAddress()) ? Optional.empty() : Optional.of(original);
  }

  private static LibC load() {
    try {
      return Native.load("c", LibC.class);
    } catch (UnsatisfiedLinkError e) {
      return null; // not Linux/glibc: nothing is captured there either
    }
  }
}
