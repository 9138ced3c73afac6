package io.taskmesh.e2e.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The classpath child JVMs start from: the runtime classpath the e2e build wrote, plus this module's classes. */
public final class Classpath {
  private Classpath() {}

  public static String forChildren() {
    String file = System.getProperty("taskmesh.classpath.file", "e2e/target/classpath.txt");
    String classes = System.getProperty("taskmesh.classes.dir", "e2e/target/classes");
    try {
      return Path.of(classes).toAbsolutePath() + java.io.File.pathSeparator + Files.readString(Path.of(file)).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("no classpath file at " + file + "; build the e2e module first", e);
    }
  }
}
