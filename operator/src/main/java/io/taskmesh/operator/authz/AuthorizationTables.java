package io.taskmesh.operator.authz;

import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.discovery.ServiceKey;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.List;

/**
 * The inbound authorization of every service some AuthorizationPolicy targets, as its sidecars get it through
 * discovery; a service without one is {@link #UNRESTRICTED}. Fed by {@link AuthorizationPolicyController}.
 */
public final class AuthorizationTables {
  public static final InboundAuthorization UNRESTRICTED = PolicyTranslator.withHash(
      InboundAuthorization.newBuilder().setUnrestricted(true));

  private final Map<ServiceKey, InboundAuthorization> tables = new ConcurrentHashMap<>();
  private final List<BiConsumer<ServiceKey, InboundAuthorization>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> reachingEveryNamespace;

  /** Every peer bound to its namespace and what policies allow it. */
  public AuthorizationTables() {
    this(Set.of());
  }

  /**
   * @param reachingEveryNamespace namespaces whose peers may discover every service (the mesh's own, where the
   *     gateway runs: it calls services of every namespace)
   */
  public AuthorizationTables(Set<String> reachingEveryNamespace) {
    this.reachingEveryNamespace = Set.copyOf(reachingEveryNamespace);
  }

  /** Replaces the service's table ({@link #UNRESTRICTED}: no policy targets it); listeners hear only of changes. */
  public void update(ServiceKey service, InboundAuthorization table) {
    InboundAuthorization before = table.getUnrestricted() ? tables.remove(service) : tables.put(service, table);
    if (!current(service).getHash().equals(before == null ? UNRESTRICTED.getHash() : before.getHash())) {
      listeners.forEach(listener -> listener.accept(service, table));
    }
  }

  public InboundAuthorization current(ServiceKey service) {
    return tables.getOrDefault(service, UNRESTRICTED);
  }

  /** The services some policy targets now. */
  public Set<ServiceKey> services() {
    return Set.copyOf(tables.keySet());
  }

  public void onChange(BiConsumer<ServiceKey, InboundAuthorization> listener) {
    listeners.add(listener);
  }

  /**
   * Whether a peer may learn {@code service}'s endpoints: always in its own namespace, and anywhere from a namespace
   * reaching every namespace; in another only when a
   * policy targeting the service allows callers of the peer's namespace (an Allow rule with no callers, or one
   * naming the namespace, or an identity or ServiceAccount of it). A service no policy targets is reachable from
   * its own namespace only.
   */
  public boolean mayDiscover(SpiffeId peer, ServiceKey service) {
    if (peer.namespace().equals(service.namespace()) || reachingEveryNamespace.contains(peer.namespace())) {
      return true;
    }
    return current(service).getRulesList().stream().filter(rule -> !rule.getDeny())
        .anyMatch(rule -> rule.getFromCount() == 0
            || rule.getFromList().stream().anyMatch(from -> mayBeFrom(from, peer.namespace())));
  }

  private static boolean mayBeFrom(CallerMatch from, String namespace) {
    if (!from.getIdentity().isEmpty()) {
      return SpiffeId.parse(from.getIdentity()).namespace().equals(namespace);
    }
    return from.getNamespace().equals(namespace);
  }
}
