package io.taskmesh.operator.discovery;

import io.taskmesh.discovery.v1.Node;
import io.taskmesh.identity.SpiffeId;
import java.util.Optional;

/** Told what each subscribing sidecar announces (its config and authorization hashes), with who proved to send it. */
@FunctionalInterface
public interface PeerAcks {
  /** @param peer the identity the peer's certificate proves; empty when discovery runs without identity */
  void accept(Node node, Optional<SpiffeId> peer);
}
