package io.taskmesh.sidecar.codec;

import io.netty.channel.Channel;

/**
 * One task that waits until a channel can take writes: run at once when it can, else on the channel's next
 * change to writable. The relay's backpressure on both sides of a stream: the next frame is read only then.
 */
public final class WhenWritable {
  private Runnable waiting;

  public void run(Channel channel, Runnable then) {
    if (channel.isWritable()) {
      then.run();
    } else {
      waiting = then;
    }
  }

  /** Called from the channel's handler on {@code channelWritabilityChanged}. */
  public void writabilityChanged(Channel channel) {
    Runnable then = waiting;
    if (then != null && channel.isWritable()) {
      waiting = null;
      then.run();
    }
  }
}
