package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One container of a pod: its process, restarts with back-off, startup/readiness/liveness probes and the
 * status the kubelet reports for it. An init container runs to completion; a native sidecar or an app
 * container is supervised until the pod stops it.
 */
final class ContainerRunner {
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
  private static final Duration BACKOFF_RESET = Duration.ofSeconds(60);
  private static final int LOG_TAIL_LINES = 40;

  private final Container container;
  private final Supplier<ContainerCommand> commands;
  private final Path log;
  private final InetAddress podIp;
  private final Prober prober;
  private final ScheduledExecutorService probes;
  private final Runnable onChange;
  private final Duration killGrace;
  private final List<ScheduledFuture<?>> probeTasks = new ArrayList<>();

  private volatile Process process;
  private volatile ContainerCommand command;
  private volatile boolean stopping;
  private volatile boolean started;
  private volatile boolean ready;
  private volatile int restartCount;
  private volatile Instant startedAt;
  private volatile String waitingReason = "ContainerCreating";
  private volatile String waitingMessage;
  private volatile ContainerState lastTerminated;
  private volatile ContainerState terminated;
  private Thread supervisor;

  ContainerRunner(Container container, Supplier<ContainerCommand> commands, Path log, InetAddress podIp, Prober prober,
      ScheduledExecutorService probes, Duration killGrace, Runnable onChange) {
    this.container = container;
    this.commands = commands;
    this.log = log;
    this.podIp = podIp;
    this.prober = prober;
    this.probes = probes;
    this.onChange = onChange;
    this.killGrace = killGrace;
  }

  String name() {
    return container.getName();
  }

  boolean started() {
    return started;
  }

  boolean ready() {
    return ready;
  }

  /** Whether the container ended and will not run again (an init container that succeeded, an app that will not restart). */
  boolean finished() {
    return terminated != null;
  }

  Integer exitCode() {
    return terminated == null ? null : terminated.getTerminated().getExitCode();
  }

  long pid() {
    Process current = process;
    return current == null ? -1 : current.pid();
  }

  /** Runs an init container once and waits for it; its exit code, or -1 when the pod stops first (then {@link #stop} ends it). */
  int runOnce(BooleanSupplier podStopping) throws InterruptedException {
    Process running = launchUnlessStopping();
    if (running == null) {
      return -1;
    }
    while (!running.waitFor(200, TimeUnit.MILLISECONDS)) {
      if (stopping || podStopping.getAsBoolean()) {
        return -1;
      }
    }
    int code = running.exitValue();
    recordExit(code);
    return code;
  }

  /** Marks the last run as failed and counts the restart that follows. */
  void countRestart(Duration backoff) {
    lastTerminated = terminated;
    terminated = null;
    restartCount++;
    waiting("CrashLoopBackOff", "back-off " + backoff.toSeconds() + "s restarting failed container " + name());
  }

  /** Runs the container until {@link #stop}, restarting it when it exits as {@code restartPolicy} says. */
  void supervise(String restartPolicy) {
    supervisor = new Thread(() -> {
      Duration backoff = Duration.ofSeconds(1);
      while (!stopping) {
        Instant start = Instant.now();
        int code;
        try {
          Process running = launchUnlessStopping();
          if (running == null) {
            return;
          }
          scheduleProbes();
          code = running.waitFor();
        } catch (RuntimeException e) {
          waiting("CreateContainerError", e.getMessage());
          code = -1;
        } catch (InterruptedException e) {
          return;
        } finally {
          cancelProbes();
        }
        if (stopping) {
          return;
        }
        if (code >= 0) {
          recordExit(code);
        }
        boolean restart = "Always".equals(restartPolicy) || ("OnFailure".equals(restartPolicy) && code != 0);
        if (!restart) {
          return;
        }
        if (Duration.between(start, Instant.now()).compareTo(BACKOFF_RESET) > 0) {
          backoff = Duration.ofSeconds(1);
        }
        countRestart(backoff);
        try {
          Thread.sleep(backoff.toMillis());
        } catch (InterruptedException e) {
          return;
        }
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
      }
    }, "container-" + name());
    supervisor.setDaemon(true);
    supervisor.start();
  }

  /** SIGTERM, then SIGKILL once {@code grace} has passed; waits for the process and its supervisor. */
  void stop(Duration grace) {
    Process running;
    synchronized (this) {
      stopping = true;
      running = process;
    }
    cancelProbes();
    if (running != null && running.isAlive()) {
      running.destroy();
      try {
        if (!running.waitFor(Math.max(grace.toMillis(), 0), TimeUnit.MILLISECONDS)) {
          running.destroyForcibly();
          running.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        running.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      if (!running.isAlive()) {
        recordExit(running.exitValue());
      }
    }
    if (supervisor != null) {
      supervisor.interrupt();
      try {
        supervisor.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The last lines of the container's log, for error messages. */
  String logTail() {
    try {
      List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  Path log() {
    return log;
  }

  ContainerStatus status() {
    ContainerState state;
    Process running = process;
    if (terminated != null) {
      state = terminated;
    } else if (running != null && running.isAlive()) {
      state = new ContainerStateBuilder().withNewRunning().withStartedAt(startedAt.toString()).endRunning().build();
    } else {
      state = new ContainerStateBuilder().withNewWaiting().withReason(waitingReason).withMessage(waitingMessage)
          .endWaiting().build();
    }
    return new ContainerStatusBuilder()
        .withName(name())
        .withImage(container.getImage())
        .withImageID("")
        .withContainerID(running == null ? null : "taskmesh://" + running.pid())
        .withReady(ready)
        .withStarted(started)
        .withRestartCount(restartCount)
        .withState(state)
        .withLastState(lastTerminated == null ? new ContainerState() : lastTerminated)
        .build();
  }

  /** Starts the process unless {@link #stop} came first: stop and start never cross, so no process outlives its pod. */
  private synchronized Process launchUnlessStopping() {
    return stopping ? null : launch();
  }

  private Process launch() {
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(log, "--- " + Instant.now() + " start " + name() + " (restart " + restartCount + ")\n",
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the log of container " + name() + " at " + log, e);
    }
    command = commands.get();
    Process running = command.start(log);
    process = running;
    startedAt = Instant.now();
    terminated = null;
    started = container.getStartupProbe() == null;
    ready = started && container.getReadinessProbe() == null;
    onChange.run();
    return running;
  }

  private void recordExit(int code) {
    ready = false;
    started = false;
    terminated = new ContainerStateBuilder().withNewTerminated()
        .withExitCode(code)
        .withReason(code == 0 ? "Completed" : code == 137 || code == 143 ? "Killed" : "Error")
        .withStartedAt(startedAt == null ? null : startedAt.toString())
        .withFinishedAt(Instant.now().toString())
        .endTerminated().build();
    onChange.run();
  }

  private void waiting(String reason, String message) {
    waitingReason = reason;
    waitingMessage = message;
    onChange.run();
  }

  private synchronized void scheduleProbes() {
    Probe startup = container.getStartupProbe();
    if (startup != null) {
      schedule(startup, new ProbeOutcome(startup) {
        @Override
        void succeeded() {
          if (!started) {
            started = true;
            if (container.getReadinessProbe() == null) {
              ready = true;
            }
            onChange.run();
          }
        }

        @Override
        void failed() {
          if (!started) {
            restartUnhealthy("startup");
          }
        }
      }, () -> !started);
    }
    Probe readiness = container.getReadinessProbe();
    if (readiness != null) {
      schedule(readiness, new ProbeOutcome(readiness) {
        @Override
        void succeeded() {
          if (!ready) {
            ready = true;
            onChange.run();
          }
        }

        @Override
        void failed() {
          if (ready) {
            ready = false;
            onChange.run();
          }
        }
      }, () -> started);
    }
    Probe liveness = container.getLivenessProbe();
    if (liveness != null) {
      schedule(liveness, new ProbeOutcome(liveness) {
        @Override
        void succeeded() {}

        @Override
        void failed() {
          restartUnhealthy("liveness");
        }
      }, () -> started);
    }
  }

  /** A failed liveness or startup probe: the kubelet kills the container, and its restart policy brings it back. */
  private void restartUnhealthy(String probe) {
    Process running = process;
    cancelProbes();
    if (running != null) {
      try {
        Files.writeString(log, "--- " + Instant.now() + " " + probe + " probe failed, killing " + name() + "\n",
            StandardOpenOption.APPEND);
      } catch (IOException ignored) {
        // the kill matters more than its log line
      }
      running.destroy();
      probes.schedule(running::destroyForcibly, killGrace.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void schedule(Probe probe, ProbeOutcome outcome, Supplier<Boolean> when) {
    long initialDelay = probe.getInitialDelaySeconds() == null ? 0 : probe.getInitialDelaySeconds();
    long period = prober.period(probe).toMillis();
    Process running = process;
    probeTasks.add(probes.scheduleWithFixedDelay(() -> {
      if (stopping || running == null || !running.isAlive() || !when.get()) {
        return;
      }
      try {
        outcome.record(prober.passes(probe, container, podIp, running.pid(), command));
      } catch (RuntimeException e) {
        outcome.record(false);
      }
    }, TimeUnit.SECONDS.toMillis(initialDelay), period, TimeUnit.MILLISECONDS));
  }

  private synchronized void cancelProbes() {
    probeTasks.forEach(task -> task.cancel(false));
    probeTasks.clear();
  }

  /** Counts consecutive results against a probe's success and failure thresholds. */
  private abstract static class ProbeOutcome {
    private final int successThreshold;
    private final int failureThreshold;
    private int successes;
    private int failures;

    ProbeOutcome(Probe probe) {
      successThreshold = probe.getSuccessThreshold() == null ? 1 : probe.getSuccessThreshold();
      failureThreshold = probe.getFailureThreshold() == null ? 3 : probe.getFailureThreshold();
    }

    final void record(boolean passed) {
      if (passed) {
        failures = 0;
        if (++successes >= successThreshold) {
          succeeded();
        }
      } else {
        successes = 0;
        if (++failures >= failureThreshold) {
          failures = 0;
          failed();
        }
      }
    }

    abstract void succeeded();

    abstract void failed();
  }
}
