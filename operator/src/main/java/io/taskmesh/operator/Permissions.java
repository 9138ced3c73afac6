package io.taskmesh.operator;

import java.util.List;

/**
 * Every (apiGroup, resource, verb) the operator's code uses, with the code that needs it. The Helm chart's
 * ClusterRole and Role must grant exactly these (helm module, RbacMatchesTheOperatorTest), and the calls
 * the operator makes in its tests must all be listed here (OperatorPermissionsTest records them on the
 * mock API server). Change this list together with the code that makes the call.
 */
public final class Permissions {

  /** Where the grant lives in the chart. */
  public enum Scope {
    /** ClusterRole: TaskServices and what they own live in any namespace. */
    CLUSTER,
    /** Role in the operator's own namespace. */
    OPERATOR_NAMESPACE,
    /** Granted to every authenticated user by Kubernetes' default RBAC (system:basic-user); not in the chart. */
    EVERY_USER
  }

  /** Which chart setting makes the operator use it. */
  public enum Needs { ALWAYS, LEADER_ELECTION, WEBHOOK, MANAGED_CERTIFICATE }

  /**
   * @param resourceName non-null when the chart may and does narrow the grant to one object
   */
  public record Permission(String apiGroup, String resource, String verb, Scope scope, Needs needs,
      String resourceName) {}

  /** The name the chart narrows the webhook configuration grant to (resourceNames). */
  public static final String WEBHOOK_CONFIGURATION = "<webhook configuration>";

  public static final List<Permission> ALL = List.of(
      // TaskServiceReconciler: JOSDK's informer on the primary resource, in every namespace
      cluster("taskmesh.io", "taskservices", "list"),
      cluster("taskmesh.io", "taskservices", "watch"),
      // TaskServiceReconciler: UpdateControl.patchStatus; a JSON merge patch, Operators turns SSA off
      cluster("taskmesh.io", "taskservices/status", "patch"),
      // dependent/*Dependent: JOSDK's informer per dependent type, then create, and update (PUT, SSA off)
      // when desired() differs; owned objects are removed by the garbage collector (owner references)
      cluster("", "configmaps", "list"), cluster("", "configmaps", "watch"),
      cluster("", "configmaps", "create"), cluster("", "configmaps", "update"),
      cluster("", "serviceaccounts", "list"), cluster("", "serviceaccounts", "watch"),
      cluster("", "serviceaccounts", "create"), cluster("", "serviceaccounts", "update"),
      cluster("", "services", "list"), cluster("", "services", "watch"),
      cluster("", "services", "create"), cluster("", "services", "update"),
      cluster("apps", "deployments", "list"), cluster("apps", "deployments", "watch"),
      cluster("apps", "deployments", "create"), cluster("apps", "deployments", "update"),
      cluster("policy", "poddisruptionbudgets", "list"), cluster("policy", "poddisruptionbudgets", "watch"),
      cluster("policy", "poddisruptionbudgets", "create"), cluster("policy", "poddisruptionbudgets", "update"),
      // PodDisruptionBudgetDependent: deleted by JOSDK when replicas drop to 1 (its reconcilePrecondition)
      cluster("policy", "poddisruptionbudgets", "delete"),
      // discovery/EndpointSliceWatcher: one informer on EndpointSlices in every namespace
      cluster("discovery.k8s.io", "endpointslices", "list"),
      cluster("discovery.k8s.io", "endpointslices", "watch"),
      // route/GrpcRouteController: informers on GRPCRoutes and Services in every namespace, and the route's
      // status written with its resourceVersion (PUT), so a replica holding a stale route gets a conflict
      cluster("gateway.networking.k8s.io", "grpcroutes", "list"),
      cluster("gateway.networking.k8s.io", "grpcroutes", "watch"),
      cluster("gateway.networking.k8s.io", "grpcroutes/status", "update"),
      // discovery/ServiceAddressWatcher: ClusterIP:port of every Service (services list/watch, above)
      // discovery/PodAcks: the config hash a sidecar announces, on its Pod (JSON merge patch);
      // reconciler/SidecarCensus.fromPods: the service's pods, to count them by that annotation
      cluster("", "pods", "patch"), cluster("", "pods", "list"),
      // webhook/SidecarInjector: the pod's namespace label, and the ConfigMap <service>-proxy it mounts
      new Permission("", "namespaces", "get", Scope.CLUSTER, Needs.WEBHOOK, null),
      new Permission("", "configmaps", "get", Scope.CLUSTER, Needs.WEBHOOK, null),
      // webhook/CaBundlePatcher: reads the configuration and patches caBundle (fabric8 edit = JSON patch)
      new Permission("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "get", Scope.CLUSTER,
          Needs.WEBHOOK, WEBHOOK_CONFIGURATION),
      new Permission("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "patch", Scope.CLUSTER,
          Needs.WEBHOOK, WEBHOOK_CONFIGURATION),
      // webhook/CertificateStore.managed: the shared serving certificate Secret (create cannot be narrowed by name)
      own("", "secrets", "get", Needs.MANAGED_CERTIFICATE),
      own("", "secrets", "create", Needs.MANAGED_CERTIFICATE),
      own("", "secrets", "update", Needs.MANAGED_CERTIFICATE),
      // Operators.leaderElection: fabric8's LeaseLock reads, creates, and renews by JSON merge patch
      // (ResourceLock.update); JOSDK's LeaderElectionManager refuses to start without get, create, update
      own("coordination.k8s.io", "leases", "get", Needs.LEADER_ELECTION),
      own("coordination.k8s.io", "leases", "create", Needs.LEADER_ELECTION),
      own("coordination.k8s.io", "leases", "update", Needs.LEADER_ELECTION),
      own("coordination.k8s.io", "leases", "patch", Needs.LEADER_ELECTION),
      // JOSDK's LeaderElectionManager.checkLeaseAccess asks what it may do before it starts
      new Permission("authorization.k8s.io", "selfsubjectrulesreviews", "create", Scope.EVERY_USER,
          Needs.LEADER_ELECTION, null));

  private Permissions() {}

  /** What the operator uses with these chart settings. */
  public static List<Permission> required(boolean leaderElection, boolean webhook, boolean managedCertificate) {
    return ALL.stream().filter(p -> switch (p.needs()) {
      case ALWAYS -> true;
      case LEADER_ELECTION -> leaderElection;
      case WEBHOOK -> webhook;
      case MANAGED_CERTIFICATE -> webhook && managedCertificate;
    }).toList();
  }

  private static Permission cluster(String group, String resource, String verb) {
    return new Permission(group, resource, verb, Scope.CLUSTER, Needs.ALWAYS, null);
  }

  private static Permission own(String group, String resource, String verb, Needs needs) {
    return new Permission(group, resource, verb, Scope.OPERATOR_NAMESPACE, needs, null);
  }
}
