package io.taskmesh.sidecar.gateway;

import java.util.concurrent.CompletableFuture;

/** Where the gateway learns a service's methods and their HTTP bindings. */
interface DescriptorSource {
  CompletableFuture<TranscodingTable> table(String service);

  /** The service answered as if its methods changed (UNIMPLEMENTED): look again next time, if the source can. */
  default void invalidate(String service) {}
}
