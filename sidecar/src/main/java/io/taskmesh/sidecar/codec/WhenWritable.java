package io.taskmesh.sidecar.codec;

/**
 * One task that waits until a stream can take writes: run at once when it can, else on the stream's next change
 * to writable. The relay's backpressure on both sides of a stream: the next frame is taken only then.
 */
public final class WhenWritable {
  private Runnable waiting;

  public void run(boolean writable, Runnable then) {
    if (writable) {
      then.run();
    } else {
      waiting = then;
    }
  }

  /** Called when the stream's writability changed; {@code writable} is what it is now. */
  public void writabilityChanged(boolean writable) {
    Runnable then = waiting;
    if (then != null && writable) {
      waiting = null;
      then.run();
    }
  }
}
