package io.taskmesh.sidecar.logical;

import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.taskmesh.identity.SpiffeId;
import java.util.Optional;

/** The caller's side of a request, as the listener relays it: the logical call reads and writes through it. */
public interface Downstream {
  /** The caller's stream's event loop; the call's timers and writes run there. */
  EventLoop eventLoop();

  boolean isActive();

  /** The identity the caller's connection proved by mTLS; empty for plaintext. */
  Optional<SpiffeId> peer();

  /** Reads the caller's next frame: called once the upstream stream can take it (flow control). */
  void readNext();

  /** Sends a frame to the caller; the socket write waits for the end of the event-loop turn. */
  ChannelFuture send(Object frame);

  /**
   * Runs {@code then} now if the caller's stream takes more frames (its HTTP/2 window and buffer are not full),
   * else once it does: how the call paces its reads of the upstream's response (flow control).
   */
  void whenWritable(Runnable then);

  /** Closes the caller's stream: a write upstream failed. */
  void close();
}
