package io.taskmesh.bench;

import com.google.common.util.concurrent.ListenableFuture;

/** Starts one request of the load and answers with its outcome; must not block. */
@FunctionalInterface
public interface CallFactory {
  ListenableFuture<?> call();
}
