package io.taskmesh.sidecar.overload;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Direct (off-heap) buffer memory in use: Netty's own counter when Netty allocates without the JDK's cleaner,
 * else the JDK's {@code direct} buffer pool, which then holds Netty's pooled chunks.
 */
public final class DirectMemory {
  private static final BufferPoolMXBean JDK_POOL = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
      .stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElse(null);

  private DirectMemory() {}

  public static long used() {
    long netty = PlatformDependent.usedDirectMemory();
    return netty >= 0 ? netty : JDK_POOL == null ? 0 : JDK_POOL.getMemoryUsed();
  }

  public static long max() {
    return PlatformDependent.maxDirectMemory();
  }
}
