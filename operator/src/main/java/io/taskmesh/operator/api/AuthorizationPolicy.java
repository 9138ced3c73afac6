package io.taskmesh.operator.api;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Who may call one mesh service, and which of its gRPC methods: enforced by the service's own sidecars, which
 * get the rules through discovery and apply them without a restart.
 */
@Group("taskmesh.io")
@Version("v1alpha1")
@Plural("authorizationpolicies")
@ShortNames("tmauthz")
public class AuthorizationPolicy extends CustomResource<AuthorizationPolicySpec, AuthorizationPolicyStatus>
    implements Namespaced {
  private static final long serialVersionUID = 1L;

  public AuthorizationPolicy() {
    // for deserialization
  }

  public AuthorizationPolicy(String namespace, String name, AuthorizationPolicySpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }
}
