package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FootprintMainTest {
  /** The head of a real {@code jcmd PID VM.native_memory summary} of the proxy (JDK 17). */
  private static final String SUMMARY = """
      Native Memory Tracking:

      (Omitting categories weighting less than 1KB)

      Total: reserved=238423KB, committed=68587KB
             mmap:   reserved=222804KB, committed=52968KB
             malloc: 15619KB #118436

      -                 Java Heap (reserved=49152KB, committed=14576KB)
                                  (mmap: reserved=49152KB, committed=14576KB)

      -                     Class (reserved=66000KB, committed=3152KB)
                                  (classes #4799)
      -        Shared class space (reserved=16384KB, committed=12060KB)
                                  (mmap: reserved=16384KB, committed=12060KB)
      -                     Other (reserved=6398KB, committed=6398KB)
                                  (malloc=6398KB #31)
      """;

  @Test
  void readsTheCommittedKilobytesOfEachCategoryAndTheTotal() {
    assertThat(FootprintMain.parseNmt(SUMMARY))
        .containsEntry("Total", 68587L)
        .containsEntry("Java Heap", 14576L)
        .containsEntry("Class", 3152L)
        .containsEntry("Shared class space", 12060L)
        .containsEntry("Other", 6398L)
        .hasSize(5);
  }
}
