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
    /** ClusterRole: used in any namespace whatever the operator watches (discovery, the webhook). */
    CLUSTER,
    /**
     * Reconciling TaskServices: the ClusterRole when the operator watches every namespace, else a Role in
     * each namespace of {@code operator.watchNamespaces}.
     */
    WATCHED_NAMESPACES,
    /** Role in the operator's own namespace. */
    OPERATOR_NAMESPACE,
    /** The pre-upgrade hook's own ClusterRole (lifecycle/CrdInstaller), made and removed with the hook. */
    CRD_UPGRADE_HOOK,
    /** The post-delete hook's own Role in the operator's namespace (lifecycle/ReleaseCleanup). */
    CLEANUP_HOOK,
    /** Granted to every authenticated user by Kubernetes' default RBAC (system:basic-user); not in the chart. */
    EVERY_USER
  }

  /** Which chart setting makes the operator use it. */
  public enum Needs { ALWAYS, LEADER_ELECTION, WEBHOOK, MANAGED_CERTIFICATE, IDENTITY, MANAGED_TRUST_ANCHOR }

  /**
   * @param resourceName non-null when the chart may and does narrow the grant to one object
   */
  public record Permission(String apiGroup, String resource, String verb, Scope scope, Needs needs,
      String resourceName) {}

  /** The name the chart narrows the webhook configuration grant to (resourceNames). */
  public static final String WEBHOOK_CONFIGURATION = "<webhook configuration>";

  /** The name the chart narrows the cleanup hook's Secret grant to. */
  public static final String WEBHOOK_CERTIFICATE = "<webhook certificate secret>";

  public static final List<Permission> ALL = List.of(
      // TaskServiceReconciler: JOSDK's informer on the primary resource, in the watched namespaces
      watched("taskmesh.io", "taskservices", "list"),
      watched("taskmesh.io", "taskservices", "watch"),
      // TaskServiceReconciler: UpdateControl.patchStatus; a JSON merge patch, Operators turns SSA off
      watched("taskmesh.io", "taskservices/status", "patch"),
      // reconciler/EventRecorder: a Warning Event on the TaskService for each new refusal or failure
      watched("", "events", "create"),
      // dependent/*Dependent: JOSDK's informer per dependent type, then create, and update (PUT, SSA off)
      // when desired() differs; owned objects are removed by the garbage collector (owner references)
      watched("", "configmaps", "list"), watched("", "configmaps", "watch"),
      watched("", "configmaps", "create"), watched("", "configmaps", "update"),
      watched("", "serviceaccounts", "list"), watched("", "serviceaccounts", "watch"),
      watched("", "serviceaccounts", "create"), watched("", "serviceaccounts", "update"),
      watched("", "services", "list"), watched("", "services", "watch"),
      watched("", "services", "create"), watched("", "services", "update"),
      watched("apps", "deployments", "list"), watched("apps", "deployments", "watch"),
      watched("apps", "deployments", "create"), watched("apps", "deployments", "update"),
      // dependent/DataVolumeClaimDependent: created once, never updated or deleted by the operator
      watched("", "persistentvolumeclaims", "list"), watched("", "persistentvolumeclaims", "watch"),
      watched("", "persistentvolumeclaims", "create"),
      watched("policy", "poddisruptionbudgets", "list"), watched("policy", "poddisruptionbudgets", "watch"),
      watched("policy", "poddisruptionbudgets", "create"), watched("policy", "poddisruptionbudgets", "update"),
      // PodDisruptionBudgetDependent: deleted by JOSDK when replicas drop to 1 (its reconcilePrecondition)
      watched("policy", "poddisruptionbudgets", "delete"),
      // discovery/EndpointSliceWatcher: one informer on EndpointSlices in every namespace
      cluster("discovery.k8s.io", "endpointslices", "list"),
      cluster("discovery.k8s.io", "endpointslices", "watch"),
      // route/GrpcRouteController: informers on GRPCRoutes and Services in every namespace, and the route's
      // status written with its resourceVersion (PUT), so a replica holding a stale route gets a conflict
      cluster("gateway.networking.k8s.io", "grpcroutes", "list"),
      cluster("gateway.networking.k8s.io", "grpcroutes", "watch"),
      cluster("gateway.networking.k8s.io", "grpcroutes/status", "update"),
      // authz/AuthorizationPolicyController: an informer on AuthorizationPolicies in every namespace, and their
      // status written with the resourceVersion (PUT)
      cluster("taskmesh.io", "authorizationpolicies", "list"),
      cluster("taskmesh.io", "authorizationpolicies", "watch"),
      cluster("taskmesh.io", "authorizationpolicies/status", "update"),
      // discovery/PodAcks with identity on: the pod's ServiceAccount, compared with the peer's before an ack
      new Permission("", "pods", "get", Scope.CLUSTER, Needs.IDENTITY, null),
      // discovery/ServiceAddressWatcher: ClusterIP:port of every Service (services list/watch, above)
      // discovery/PodAcks: the config hash a sidecar announces, on its Pod (JSON merge patch);
      // reconciler/SidecarCensus.fromPods: the service's pods, to count them by that annotation; the
      // reconciler watches them (labelled ones only) so an ack updates status at once
      cluster("", "pods", "patch"), cluster("", "pods", "list"), cluster("", "pods", "watch"),
      // discovery/MeshedPods (identity on): an informer on the pods labelled taskmesh.io/tls-mode=mtls (list, watch)
      // webhook/NamespaceLabels: an informer on namespaces for their injection label (get: one not cached yet),
      // webhook/SidecarInjector: the ConfigMap <service>-proxy an injected pod mounts
      new Permission("", "namespaces", "list", Scope.CLUSTER, Needs.WEBHOOK, null),
      new Permission("", "namespaces", "watch", Scope.CLUSTER, Needs.WEBHOOK, null),
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
      // lifecycle/ReleaseCleanup (the chart's post-delete hook): the Secret and the Lease, each by its name
      new Permission("", "secrets", "delete", Scope.CLEANUP_HOOK, Needs.MANAGED_CERTIFICATE, WEBHOOK_CERTIFICATE),
      new Permission("coordination.k8s.io", "leases", "delete", Scope.CLEANUP_HOOK, Needs.LEADER_ELECTION,
          Operators.LEASE_NAME),
      // lifecycle/CrdInstaller (the chart's pre-upgrade hook): brings the CRD up to this version
      new Permission("apiextensions.k8s.io", "customresourcedefinitions", "get", Scope.CRD_UPGRADE_HOOK, Needs.ALWAYS,
          null),
      new Permission("apiextensions.k8s.io", "customresourcedefinitions", "create", Scope.CRD_UPGRADE_HOOK,
          Needs.ALWAYS, null),
      new Permission("apiextensions.k8s.io", "customresourcedefinitions", "update", Scope.CRD_UPGRADE_HOOK,
          Needs.ALWAYS, null),
      // identity/TokenReviewer: who a sidecar's ServiceAccount token belongs to, before its CSR is signed
      new Permission("authentication.k8s.io", "tokenreviews", "create", Scope.CLUSTER, Needs.IDENTITY, null),
      // identity/TrustAnchorStore: reads the root of trust; creates it when the operator manages it
      own("", "secrets", "get", Needs.IDENTITY),
      own("", "secrets", "create", Needs.MANAGED_TRUST_ANCHOR),
      // identity/TrustBundlePublisher: ConfigMap taskmesh-trust-bundle in each namespace with meshed pods, found
      // by its TaskServices and its injection label, and in the operator's own (the gateway's); create cannot be
      // narrowed by name
      new Permission("", "configmaps", "get", Scope.CLUSTER, Needs.IDENTITY, null),
      new Permission("", "configmaps", "create", Scope.CLUSTER, Needs.IDENTITY, null),
      new Permission("", "configmaps", "update", Scope.CLUSTER, Needs.IDENTITY, null),
      new Permission("taskmesh.io", "taskservices", "list", Scope.CLUSTER, Needs.IDENTITY, null),
      new Permission("", "namespaces", "list", Scope.CLUSTER, Needs.IDENTITY, null),
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

  /** What the operator uses with these chart settings, the workload issuer off. */
  public static List<Permission> required(boolean leaderElection, boolean webhook, boolean managedCertificate) {
    return required(leaderElection, webhook, managedCertificate, false, false);
  }

  /** What the operator uses with these chart settings. */
  public static List<Permission> required(boolean leaderElection, boolean webhook, boolean managedCertificate,
      boolean identity, boolean managedTrustAnchor) {
    return ALL.stream().filter(p -> switch (p.needs()) {
      case ALWAYS -> true;
      case LEADER_ELECTION -> leaderElection;
      case WEBHOOK -> webhook;
      case MANAGED_CERTIFICATE -> webhook && managedCertificate;
      case IDENTITY -> identity;
      case MANAGED_TRUST_ANCHOR -> identity && managedTrustAnchor;
    }).toList();
  }

  private static Permission cluster(String group, String resource, String verb) {
    return new Permission(group, resource, verb, Scope.CLUSTER, Needs.ALWAYS, null);
  }

  private static Permission watched(String group, String resource, String verb) {
    return new Permission(group, resource, verb, Scope.WATCHED_NAMESPACES, Needs.ALWAYS, null);
  }

  private static Permission own(String group, String resource, String verb, Needs needs) {
    return new Permission(group, resource, verb, Scope.OPERATOR_NAMESPACE, needs, null);
  }
}
