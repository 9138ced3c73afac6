package io.taskmesh.e2e.cluster.install;

import java.util.List;
import sun.misc.Signal;

/**
 * helm-java runs Helm as a Go library inside this JVM, and once it has run, Go's runtime holds SIGINT, SIGTERM
 * and SIGHUP: Ctrl-C or {@code kill} no longer start the JVM's shutdown, its hooks never run, and only SIGKILL
 * ends the process (leaving pods, network namespaces and PostgreSQL behind). This hands them back to the JVM,
 * which then ends as it does by default on them: the shutdown hooks, then exit status 128 + the signal's number.
 * Go does not take them again on later Helm calls.
 */
final class JvmSignals {
  private static final List<String> TERMINATING = List.of("INT", "TERM", "HUP");

  private JvmSignals() {}

  static void reclaim() {
    for (String name : TERMINATING) {
      Signal.handle(new Signal(name), signal -> System.exit(128 + signal.getNumber()));
    }
  }
}
