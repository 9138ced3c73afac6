package io.taskmesh.e2e.cluster.kubelet;

/** Another live cluster on this machine holds the name (its lock file is locked): pick another. */
public final class ClusterNameInUseException extends IllegalStateException {
  ClusterNameInUseException(String message) {
    super(message);
  }
}
