package io.taskmesh.sidecar.route;

/**
 * The policy table in force. Each request reads it once ({@link Lookup#forService}), so a reload applies
 * to a request whole or not at all.
 */
public final class ActivePolicies {
  private volatile PolicyTable current;

  /** How one chain finds a request's policy in the table in force. */
  @FunctionalInterface
  public interface Lookup {
    CallPolicy forService(String service);
  }

  public ActivePolicies(PolicyTable initial) {
    this.current = initial;
  }

  /** The table of a newly accepted config; requests already started keep theirs. */
  public void use(PolicyTable table) {
    current = table;
  }

  public PolicyTable current() {
    return current;
  }

  /** For the outbound and gateway chains: the upstream service's policy. */
  public Lookup outbound() {
    return service -> current.outbound(service);
  }

  /** For the inbound chain: the pod's policy, whatever the service. */
  public Lookup inbound() {
    return service -> current.inbound();
  }
}
