package io.taskmesh.operator.authz;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.operator.lifecycle.CoalescedPass;
import io.taskmesh.operator.api.AuthorizationPolicy;
import io.taskmesh.operator.api.AuthorizationPolicyStatus;
import io.taskmesh.operator.dependent.Labels;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches AuthorizationPolicies in every namespace and keeps {@link AuthorizationTables} and the policies'
 * status in step: each valid policy joins its target's table; status says whether it was Accepted (and why
 * not) and how many of the target's sidecars enforce the current table. Any change (and each sidecar ack,
 * see {@link #acksChanged}) re-derives everything on one thread: policies are few.
 *
 * <p>Every operator replica runs this, because every replica serves discovery; replicas derive the same
 * status, so the first write wins and the others find nothing to change.
 */
public final class AuthorizationPolicyController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuthorizationPolicyController.class);

  private final KubernetesClient client;
  private final AuthorizationTables tables;
  private final Clock clock;
  private final CoalescedPass passes =
      new CoalescedPass("authorization-policies", "authorization_policies_failed", this::reconcileAll);
  private SharedIndexInformer<AuthorizationPolicy> policies;

  public AuthorizationPolicyController(KubernetesClient client, AuthorizationTables tables, Clock clock) {
    this.client = client;
    this.tables = tables;
    this.clock = clock;
  }

  /** Starts the informer without waiting: it retries until the CRD is installed. */
  public void start() {
    policies = client.resources(AuthorizationPolicy.class).inAnyNamespace().runnableInformer(0);
    policies.exceptionHandler((started, failure) -> {
      log.warn("event=authorization_informer_retry started={} error={}", started, failure.toString());
      return true;
    });
    policies.addEventHandler(passes.onEveryChange());
    policies.start().thenRun(passes::schedule);
  }

  /** A sidecar announced the table it enforces: the applied counts may have changed. */
  public void acksChanged() {
    passes.schedule();
  }

  private void reconcileAll() {
    if (!policies.hasSynced()) {
      return;
    }
    Map<ServiceKey, List<AuthorizationPolicy>> valid = new LinkedHashMap<>();
    Map<AuthorizationPolicy, String> invalid = new LinkedHashMap<>();
    for (AuthorizationPolicy policy : policies.getStore().list()) {
      Optional<String> problem = PolicyTranslator.problem(policy);
      if (problem.isPresent()) {
        invalid.put(policy, problem.get());
      } else {
        valid.computeIfAbsent(PolicyTranslator.target(policy), key -> new ArrayList<>()).add(policy);
      }
    }
    Set<ServiceKey> targets = new HashSet<>(tables.services());
    targets.addAll(valid.keySet());
    for (ServiceKey target : targets) {
      tables.update(target, PolicyTranslator.table(valid.getOrDefault(target, List.of())));
    }
    valid.forEach((target, targeting) -> {
      InboundAuthorization table = tables.current(target);
      String applied = applied(target, table.getHash());
      targeting.forEach(policy -> writeStatus(policy, status(policy, true, "Accepted",
          "in the rules of service " + target.name() + " (" + targeting.size() + " polic"
              + (targeting.size() == 1 ? "y" : "ies") + ")", table.getHash(), applied)));
    });
    invalid.forEach((policy, problem) -> writeStatus(policy, status(policy, false, "Invalid", problem, null, null)));
  }

  /** "enforcing/pods" over the target's live pods, as the sidecars announced on their pods. */
  private String applied(ServiceKey target, String hash) {
    List<Pod> pods = client.pods().inNamespace(target.namespace()).withLabel(Labels.SERVICE_LABEL, target.name())
        .list().getItems().stream().filter(pod -> pod.getMetadata().getDeletionTimestamp() == null).toList();
    long enforcing = pods.stream().filter(pod -> pod.getMetadata().getAnnotations() != null
        && hash.equals(pod.getMetadata().getAnnotations().get(PodAcks.AUTHORIZATION_ANNOTATION))).count();
    return enforcing + "/" + pods.size();
  }

  private AuthorizationPolicyStatus status(AuthorizationPolicy policy, boolean accepted, String reason, String message,
      String hash, String applied) {
    long generation = Objects.requireNonNullElse(policy.getMetadata().getGeneration(), 0L);
    String state = accepted ? "True" : "False";
    List<Condition> before = policy.getStatus() == null ? List.of() : policy.getStatus().conditions;
    String since = before.stream().filter(c -> "Accepted".equals(c.getType()) && state.equals(c.getStatus()))
        .map(Condition::getLastTransitionTime).filter(Objects::nonNull).findFirst()
        .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    AuthorizationPolicyStatus status = new AuthorizationPolicyStatus();
    status.observedGeneration = generation;
    status.rulesHash = hash;
    status.applied = applied;
    status.conditions = List.of(new Condition(since, message, generation, reason, state, "Accepted"));
    return status;
  }

  private void writeStatus(AuthorizationPolicy policy, AuthorizationPolicyStatus desired) {
    if (desired.equals(policy.getStatus())) {
      return;
    }
    AuthorizationPolicy changed = new AuthorizationPolicy(policy.getMetadata().getNamespace(),
        policy.getMetadata().getName(), policy.getSpec());
    changed.setMetadata(policy.getMetadata());
    changed.setStatus(desired);
    try {
      client.resource(changed).updateStatus();
    } catch (KubernetesClientException e) {
      // a conflict means a newer policy is on its way through the informer, which will schedule again
      log.info("event=authorization_status_not_written policy={} code={} error={}", PolicyTranslator.name(policy),
          e.getCode(), e.getMessage());
    }
  }

  @Override
  public void close() {
    if (policies != null) {
      policies.close();
    }
    passes.close();
  }
}
