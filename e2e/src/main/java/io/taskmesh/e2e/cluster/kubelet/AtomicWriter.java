package io.taskmesh.e2e.cluster.kubelet;

import io.taskmesh.e2e.local.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The kubelet's atomic writer for ConfigMap, Secret and projected volumes: the files live in a
 * timestamped directory {@code ..2026_12_01_07_50_00.123}, {@code ..data} is a symlink to it, and each
 * top-level name is a symlink through {@code ..data}. An update writes a new directory and renames a new
 * {@code ..data} link over the old one, so a reader sees the old set or the new one, never a mix, and a
 * container sees the change in place through its mount of the volume directory.
 */
final class AtomicWriter {
  private static final String DATA = "..data";
  private final Path directory;

  AtomicWriter(Path directory) {
    this.directory = directory;
  }

  /** Writes {@code files} (relative path → bytes) with {@code mode}, unless the volume already holds exactly them. */
  synchronized boolean write(Map<String, byte[]> files, int mode) {
    try {
      Files.createDirectories(directory);
      Path current = directory.resolve(DATA);
      if (Files.exists(current) && holds(current, files)) {
        return false;
      }
      Path generation = Files.createDirectory(directory.resolve(".." + System.nanoTime()));
      Files.setPosixFilePermissions(generation, permissions(0755));
      for (Map.Entry<String, byte[]> file : files.entrySet()) {
        Path target = generation.resolve(checkedRelative(file.getKey()));
        Files.createDirectories(target.getParent());
        Files.write(target, file.getValue());
        Files.setPosixFilePermissions(target, permissions(mode));
      }
      Path next = directory.resolve("..data_tmp");
      Files.deleteIfExists(next);
      Files.createSymbolicLink(next, generation.getFileName());
      Path previous = Files.isSymbolicLink(current) ? directory.resolve(Files.readSymbolicLink(current)) : null;
      Files.move(next, current, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      linkTopLevelNames(files.keySet().stream().map(key -> key.split("/")[0]).distinct().toList());
      if (previous != null) {
        FileTrees.delete(previous);
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write volume " + directory, e);
    }
  }

  private void linkTopLevelNames(java.util.List<String> names) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        if (!name.startsWith("..") && !names.contains(name)) {
          Files.delete(entry);
        }
      }
    }
    for (String name : names) {
      Path link = directory.resolve(name);
      if (!Files.isSymbolicLink(link)) {
        Files.createSymbolicLink(link, Path.of(DATA, name));
      }
    }
  }

  private static boolean holds(Path current, Map<String, byte[]> files) throws IOException {
    try (Stream<Path> existing = Files.walk(current.toRealPath())) {
      long count = existing.filter(Files::isRegularFile).count();
      if (count != files.size()) {
        return false;
      }
    }
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      Path path = current.resolve(file.getKey());
      if (!Files.isRegularFile(path) || !java.util.Arrays.equals(Files.readAllBytes(path), file.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static String checkedRelative(String path) {
    Path relative = Path.of(path).normalize();
    if (path.isBlank() || relative.isAbsolute() || relative.startsWith("..")) {
      throw new IllegalArgumentException("volume item path '" + path + "' must be relative and stay inside the volume");
    }
    return relative.toString();
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        permissions.add(order[bit]);
      }
    }
    return permissions;
  }
}
