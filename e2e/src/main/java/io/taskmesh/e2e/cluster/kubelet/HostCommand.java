package io.taskmesh.e2e.cluster.kubelet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A short-lived host command (ip, iptables-restore, ...): its output, or an exception that quotes it. */
final class HostCommand {
  private static final long TIMEOUT_SECONDS = 30;

  private HostCommand() {}

  /** Runs {@code command}; fails with its output when it exits non-zero. */
  static String run(List<String> command) {
    return run(command, null);
  }

  /** Runs {@code command} with {@code stdin} as its input. */
  static String run(List<String> command, String stdin) {
    Result result = attempt(command, stdin);
    if (result.exitCode() != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + " exited " + result.exitCode() + ": " + result.output().strip());
    }
    return result.output();
  }

  /** Runs {@code command} and reports how it ended, for callers to whom a failure is an answer. */
  static Result attempt(List<String> command, String stdin) {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    try {
      Process process = builder.start();
      try (var in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
      return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
    }
  }

  /** {@code tool} as found on this host's PATH, or on the given path when it has a slash. */
  static Optional<Path> find(String tool) {
    if (tool.contains("/")) {
      return Files.isExecutable(Path.of(tool)) ? Optional.of(Path.of(tool)) : Optional.empty();
    }
    return Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"))
        .map(dir -> Path.of(dir, tool))
        .filter(Files::isExecutable)
        .findFirst();
  }

  record Result(int exitCode, String output) {}
}
