package io.taskmesh.sidecar.authz;

/**
 * The inbound authorization in force: each request reads it once, so a new table from discovery applies to a
 * request whole or not at all, from the next request on, without a restart.
 */
public final class ActiveAuthorization {
  private volatile InboundAuthorization current = InboundAuthorization.UNRESTRICTED;

  public void use(InboundAuthorization table) {
    current = table;
  }

  public InboundAuthorization current() {
    return current;
  }
}
