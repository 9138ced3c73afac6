package io.taskmesh.e2e.cluster.kubelet;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A classpath every user can read. Jars under a private home ({@code /root/.m2}) cannot be opened by a
 * container running as its image's user (65532), so those entries are hard-linked (or copied, across
 * file systems) into a directory of the kubelet's own, which containers see at {@link #MOUNT_PATH} — where
 * a Jib image keeps its libraries — so no mount of theirs (an emptyDir over {@code /tmp}) can hide it.
 * Readable entries are used where they are, unless a pod's own mount may cover them (entries under {@code /tmp}).
 */
final class ReadableClasspath {
  static final String MOUNT_PATH = "/app/libs";
  /** Where a Jib image keeps its classpath, for commands that start {@code java} themselves. */
  static final String CLASSPATH_FILE = "/app/jib-classpath-file";
  private final Path directory;
  private final Map<String, String> views = new ConcurrentHashMap<>();
  private final Map<String, Path> files = new ConcurrentHashMap<>();

  ReadableClasspath(Path directory) {
    this.directory = directory;
  }

  /** {@code classpath} as a container sees it with {@link #directory()} mounted at {@link #MOUNT_PATH}. */
  String of(String classpath) {
    return views.computeIfAbsent(classpath, this::build);
  }

  Path directory() {
    return directory;
  }

  /** A file holding {@code classpath}, as Jib writes {@link #CLASSPATH_FILE} into an image. */
  Path classpathFile(String classpath) {
    return files.computeIfAbsent(classpath, content -> {
      Path file = directory.resolveSibling(directory.getFileName() + "-" + Integer.toHexString(content.hashCode())
          + ".classpath");
      try {
        Files.createDirectories(directory.getParent());
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, AtomicWriter.permissions(0644));
        return file;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the classpath file " + file, e);
      }
    });
  }

  private synchronized String build(String classpath) {
    try {
      Files.createDirectories(directory);
      Files.setPosixFilePermissions(directory, AtomicWriter.permissions(0755));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + directory, e);
    }
    List<String> entries = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      Path path = Path.of(entry).toAbsolutePath();
      if (!Files.exists(path) || readableByAll(path) && !mayBeCoveredByAPodMount(path)) {
        entries.add(entry);
        continue;
      }
      // one name per source path, so views of several classpaths share the directory
      String name = Integer.toHexString(path.toString().hashCode()) + "-" + path.getFileName();
      Path copy = directory.resolve(name);
      try {
        if (!Files.exists(copy)) {
          share(path, copy);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot make " + path + " readable for containers at " + copy, e);
      }
      entries.add(MOUNT_PATH + "/" + name);
    }
    return String.join(File.pathSeparator, entries);
  }

  private static void share(Path source, Path target) throws IOException {
    if (Files.isRegularFile(source)) {
      // a link shares the file's mode, so only a file readable by all is linked; the rest are copied
      if (Files.getPosixFilePermissions(source).contains(PosixFilePermission.OTHERS_READ)) {
        try {
          Files.createLink(target, source);
          return;
        } catch (IOException | UnsupportedOperationException e) {
          // another file system: copy below
        }
      }
      Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
      Files.setPosixFilePermissions(target, AtomicWriter.permissions(0644));
      return;
    }
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path to = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(to);
          Files.setPosixFilePermissions(to, AtomicWriter.permissions(0755));
        } else {
          Files.copy(file, to);
          Files.setPosixFilePermissions(to, AtomicWriter.permissions(0644));
        }
      }
    }
  }

  /** A pod's own emptyDir over {@code /tmp} hides what is there (a checkout under /tmp, say). */
  private static boolean mayBeCoveredByAPodMount(Path path) {
    return path.startsWith("/tmp");
  }

  private static boolean readableByAll(Path path) {
    try {
      Set<PosixFilePermission> own = Files.getPosixFilePermissions(path);
      if (!own.contains(PosixFilePermission.OTHERS_READ)
          || (Files.isDirectory(path) && !own.contains(PosixFilePermission.OTHERS_EXECUTE))) {
        return false;
      }
      for (Path parent = path.getParent(); parent != null; parent = parent.getParent()) {
        if (!Files.getPosixFilePermissions(parent).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return false;
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
