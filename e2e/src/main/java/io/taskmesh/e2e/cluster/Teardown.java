package io.taskmesh.e2e.cluster;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How {@code ./taskmesh} on the local cluster ends, once: when its work is done, or when it is interrupted
 * (Ctrl-C, SIGTERM). Either way everything it started goes at once: every pod's containers SIGKILLed (no grace
 * period: nothing is left to drain for), any other child process killed (Zipkin, a command under way), PostgreSQL
 * stopped, the network namespaces, the host link and the rules removed. Interrupted, it first stops the work in
 * progress and says so; the JVM then exits with 128 + the signal's number (130, 143), as a shell reports it.
 */
final class Teardown {
  private static final long WAIT_FOR_OTHER_TEARDOWN_SECONDS = 60;

  private final LocalCluster cluster;
  private final PrintStream out;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile Runnable stopWork = () -> {};

  private Teardown(LocalCluster cluster, PrintStream out) {
    this.cluster = cluster;
    this.out = out;
  }

  /** A teardown of {@code cluster} that also runs when the JVM is told to stop. */
  static Teardown onExit(LocalCluster cluster, PrintStream out) {
    Teardown teardown = new Teardown(cluster, out);
    Runtime.getRuntime().addShutdownHook(new Thread(teardown::interrupted, "taskmesh-interrupted"));
    return teardown;
  }

  /** What stops the work under way when interrupted (the story), before the cluster goes. */
  void whenInterrupted(Runnable stopWork) {
    this.stopWork = stopWork;
  }

  /** The work is done: removes everything (or waits for the teardown an interruption began). */
  void now() {
    if (started.compareAndSet(false, true)) {
      removeEverything();
    } else {
      awaitOther();
    }
  }

  private void interrupted() {
    if (!started.compareAndSet(false, true)) {
      awaitOther(); // the JVM halts when this hook returns: the teardown under way must end first
      return;
    }
    long start = System.nanoTime();
    out.println();
    out.println("Interrupted: stopping the story, killing every pod, removing the cluster.");
    out.flush();
    stopWork.run();
    removeEverything();
    out.printf("Interrupted; the cluster is removed (pods killed, network namespaces removed, external services"
        + " stopped) in %.1f s.%n", (System.nanoTime() - start) / 1e9);
    out.flush();
  }

  private void removeEverything() {
    try {
      cluster.kubelet().kill();
      // what the kubelet does not own: Zipkin (perhaps still starting), a command under way
      ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
      cluster.kill();
    } finally {
      finished.countDown();
    }
  }

  private void awaitOther() {
    try {
      finished.await(WAIT_FOR_OTHER_TEARDOWN_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
