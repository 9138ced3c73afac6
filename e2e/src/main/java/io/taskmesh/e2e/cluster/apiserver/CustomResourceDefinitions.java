package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * A CRD is served as soon as it is stored, so its status says so as the API server's would: names accepted
 * and condition Established, which clients (kubectl wait, operators) look for.
 */
final class CustomResourceDefinitions implements Admission {
  private final Clock clock;

  CustomResourceDefinitions(Clock clock) {
    this.clock = clock;
  }

  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode crd, Optional<ObjectNode> old, Warnings warnings) {
    ObjectNode status = crd.withObjectProperty("status");
    status.set("acceptedNames", crd.at("/spec/names").deepCopy());
    ArrayNode conditions = status.putArray("conditions");
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    for (String type : new String[] {"NamesAccepted", "Established"}) {
      conditions.addObject().put("type", type).put("status", "True").put("reason", type.equals("Established")
          ? "InitialNamesAccepted" : "NoConflicts").put("lastTransitionTime", now);
    }
    ArrayNode stored = status.putArray("storedVersions");
    crd.at("/spec/versions").forEach(version -> {
      if (version.path("storage").asBoolean(false)) {
        stored.add(version.path("name").asText());
      }
    });
    return crd;
  }
}
