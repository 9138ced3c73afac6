package io.taskmesh.e2e.cluster.kubelet;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How one container's process is started on this host: in the pod's network namespace ({@code ip netns
 * exec}, which also bind-mounts the pod's {@code /etc/hosts}), in a mount namespace of its own where its
 * volumes are bind-mounted at their mount paths, as the user its security context names ({@code setpriv}),
 * with exactly the environment Kubernetes would give it.
 */
record ContainerCommand(String netns, List<Mount> mounts, Identity identity, String workingDir, List<String> argv,
    Map<String, String> env) {

  /** A volume's host directory (or file, for a subPath) at {@code path} inside the container. */
  record Mount(Path source, String path, boolean readOnly) {}

  /** Who the process runs as; {@code uid} 0 keeps root and its capabilities. */
  record Identity(long uid, long gid, List<Long> supplementalGroups, List<String> addedCapabilities,
      boolean dropsAllCapabilities, boolean noNewPrivileges) {}

  // positional arguments: workdir, then (source, target, ro|rw) triples, then "--" and the command
  private static final String MOUNT_SCRIPT = """
      workdir=$1; shift
      while [ "$1" != "--" ]; do
        mount --bind "$1" "$2" || exit 126
        if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || exit 126; fi
        shift 3
      done
      shift
      cd "$workdir" || exit 126
      exec "$@"
      """;

  ContainerCommand {
    mounts = mountOrder(mounts);
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
  }

  /** Starts the process, its output appended to {@code log}. Its pid is the app's own: every step execs the next. */
  Process start(Path log) {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns,
        tool("unshare"), "--mount", "--propagation", "private", tool("sh"), "-c", MOUNT_SCRIPT, "sh",
        workingDir == null || workingDir.isBlank() ? "/" : workingDir));
    for (Mount mount : mounts) {
      command.addAll(List.of(mount.source().toString(), mount.path(), mount.readOnly() ? "ro" : "rw"));
    }
    command.add("--");
    command.addAll(asUser());
    command.addAll(argv);
    mounts.forEach(ContainerCommand::ensureMountPoint);
    return launch(command, log);
  }

  /** Runs {@code execArgv} inside the namespaces of the running process {@code pid} (an exec probe). */
  int execIn(long pid, List<String> execArgv, Duration timeout) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(tool("nsenter"), "--target", Long.toString(pid), "--mount", "--net"));
    if (workingDir != null && !workingDir.isBlank()) {
      command.add("--wd=" + workingDir);
    }
    command.add("--");
    command.addAll(asUser());
    command.addAll(execArgv);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(new File("/dev/null"));
    builder.environment().clear();
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }

  private List<String> asUser() {
    if (identity.uid() == 0 && identity.gid() == 0 && identity.supplementalGroups().isEmpty()
        && !identity.dropsAllCapabilities()) {
      return List.of();
    }
    List<String> setpriv = new ArrayList<>(List.of(tool("setpriv"), "--reuid=" + identity.uid(), "--regid=" + identity.gid()));
    if (identity.supplementalGroups().isEmpty()) {
      setpriv.add("--clear-groups");
    } else {
      setpriv.add("--groups=" + String.join(",", identity.supplementalGroups().stream().map(String::valueOf).toList()));
    }
    String caps = String.join(",", identity.addedCapabilities().stream()
        .map(cap -> "+" + cap.toLowerCase(java.util.Locale.ROOT).replaceFirst("^cap_", "")).toList());
    if (identity.dropsAllCapabilities()) {
      // root keeps only what the container adds back, as a runtime's capability set would leave it
      setpriv.add("--bounding-set=-all" + (caps.isEmpty() ? "" : "," + caps));
    }
    if (!caps.isEmpty() && identity.uid() != 0) {
      setpriv.addAll(List.of("--inh-caps=" + caps, "--ambient-caps=" + caps));
    }
    if (identity.noNewPrivileges()) {
      setpriv.add("--no-new-privs");
    }
    setpriv.add("--");
    return setpriv;
  }

  /**
   * The order to mount in: a parent directory before what is mounted inside it, and a target that would
   * hide the kubelet's own volume directories (a container mounting {@code /tmp} while the work directory
   * is under {@code /tmp}) after the mounts whose sources it hides.
   */
  static List<Mount> mountOrder(List<Mount> mounts) {
    List<Mount> remaining = new ArrayList<>(mounts);
    remaining.sort(java.util.Comparator.comparingInt(m -> Path.of(m.path()).getNameCount()));
    List<Mount> ordered = new ArrayList<>();
    while (!remaining.isEmpty()) {
      Mount next = remaining.stream()
          .filter(candidate -> remaining.stream().noneMatch(other -> other != candidate
              && (hides(candidate, other.source()) || isStrictlyUnder(candidate.path(), other.path()))))
          .findFirst()
          .orElse(remaining.get(0));
      remaining.remove(next);
      ordered.add(next);
    }
    return List.copyOf(ordered);
  }

  private static boolean hides(Mount mount, Path source) {
    return source.toAbsolutePath().normalize().startsWith(Path.of(mount.path()).normalize());
  }

  private static boolean isStrictlyUnder(String path, String ancestor) {
    Path child = Path.of(path).normalize();
    Path parent = Path.of(ancestor).normalize();
    return !child.equals(parent) && child.startsWith(parent);
  }

  /**
   * A bind mount needs its target to exist: a missing one is created on the host as an empty directory
   * (or file) and left there, since removing it could detach another container's mount of it.
   */
  static void ensureMountPoint(Mount mount) {
    Path target = Path.of(mount.path());
    try {
      if (Files.exists(target)) {
        return;
      }
      if (Files.isDirectory(mount.source())) {
        Files.createDirectories(target);
      } else {
        Files.createDirectories(target.getParent());
        Files.createFile(target);
      }
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // created at the same moment for another container
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create mount point " + target, e);
    }
  }

  /** A host tool by absolute path, so the container's own PATH cannot change which one runs. */
  private static String tool(String name) {
    return HostCommand.find(name).map(Path::toString)
        .orElseThrow(() -> new IllegalStateException(name + " is not on this host's PATH"));
  }

  private Process launch(List<String> command, Path log) {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().clear();
    builder.environment().putAll(env);
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }
}
