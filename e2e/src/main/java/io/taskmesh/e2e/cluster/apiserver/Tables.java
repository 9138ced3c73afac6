package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code meta.k8s.io/v1} Table responses, which {@code kubectl get} asks for: a custom resource's columns are
 * its CRD's {@code additionalPrinterColumns} after the name (as the API server builds them); the built-in
 * types get the columns kubectl users know (READY, STATUS, CLUSTER-IP, ...).
 */
final class Tables {
  private record Column(String name, String type, int priority, Function<JsonNode, Object> cell) {}

  private final CustomResourceSchemas schemas;
  private final Clock clock;

  Tables(CustomResourceSchemas schemas, Clock clock) {
    this.schemas = schemas;
    this.clock = clock;
  }

  MockResponse render(ApiRequest api, RecordedRequest request, MockResponse stored) {
    String accept = request.getHeader("Accept");
    if (accept == null || !accept.contains("as=Table") || api.isWatch() || stored.code() != 200) {
      return stored;
    }
    JsonNode body = ObjectStore.parse(ObjectStore.text(stored.getBody()));
    List<JsonNode> items = new ArrayList<>();
    if (body.has("items")) {
      body.get("items").forEach(items::add);
    } else {
      items.add(body);
    }
    List<Column> columns = columns(api);
    ObjectNode table = ObjectStore.JSON.createObjectNode().put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
    table.putObject("metadata").put("resourceVersion", body.at("/metadata/resourceVersion").asText(""));
    ArrayNode definitions = table.putArray("columnDefinitions");
    for (Column column : columns) {
      definitions.addObject().put("name", column.name()).put("type", column.type())
          .put("format", column.name().equals("Name") ? "name" : "").put("description", "")
          .put("priority", column.priority());
    }
    ArrayNode rows = table.putArray("rows");
    for (JsonNode item : items) {
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      columns.forEach(column -> cells.addPOJO(column.cell().apply(item)));
      row.set("object", item);
    }
    return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
        .setBody(table.toString());
  }

  private List<Column> columns(ApiRequest api) {
    List<Column> columns = new ArrayList<>();
    columns.add(new Column("Name", "string", 0, item -> item.at("/metadata/name").asText()));
    var crd = schemas.definition(api.group(), api.resource());
    if (crd.isPresent()) {
      CustomResourceSchemas.version(crd.get(), api.version()).ifPresent(version -> {
        for (JsonNode printer : version.path("additionalPrinterColumns")) {
          String path = printer.path("jsonPath").asText();
          columns.add(new Column(printer.path("name").asText(), printer.path("type").asText("string"),
              printer.path("priority").asInt(0), item -> cell(item.at(pointer(path)), printer.path("type").asText())));
        }
      });
      if (columns.size() == 1) {
        columns.add(age());
      }
      return columns;
    }
    switch (api.resource()) {
      case "pods" -> {
        columns.add(new Column("Ready", "string", 0, Tables::podReady));
        columns.add(new Column("Status", "string", 0, item -> item.at("/status/phase").asText("Pending")));
        columns.add(new Column("Restarts", "string", 0, item -> String.valueOf(restarts(item))));
        columns.add(age());
        columns.add(new Column("IP", "string", 1, item -> item.at("/status/podIP").asText("<none>")));
      }
      case "deployments" -> {
        columns.add(new Column("Ready", "string", 0, item -> item.at("/status/readyReplicas").asInt(0) + "/"
            + item.at("/spec/replicas").asInt(1)));
        columns.add(new Column("Up-to-date", "integer", 0, item -> item.at("/status/updatedReplicas").asInt(0)));
        columns.add(new Column("Available", "integer", 0, item -> item.at("/status/availableReplicas").asInt(0)));
        columns.add(age());
      }
      case "replicasets" -> {
        columns.add(new Column("Desired", "integer", 0, item -> item.at("/spec/replicas").asInt(1)));
        columns.add(new Column("Current", "integer", 0, item -> item.at("/status/replicas").asInt(0)));
        columns.add(new Column("Ready", "integer", 0, item -> item.at("/status/readyReplicas").asInt(0)));
        columns.add(age());
      }
      case "services" -> {
        columns.add(new Column("Type", "string", 0, item -> item.at("/spec/type").asText("ClusterIP")));
        columns.add(new Column("Cluster-IP", "string", 0, item -> item.at("/spec/clusterIP").asText("<none>")));
        columns.add(new Column("External-IP", "string", 0, item -> "<none>"));
        columns.add(new Column("Port(s)", "string", 0, item -> joined(item.at("/spec/ports"),
            port -> port.path("port").asText() + "/" + port.path("protocol").asText("TCP"))));
        columns.add(age());
      }
      case "endpointslices" -> {
        columns.add(new Column("AddressType", "string", 0, item -> item.path("addressType").asText()));
        columns.add(new Column("Ports", "string", 0, item -> joined(item.path("ports"), port -> port.path("port").asText())));
        columns.add(new Column("Endpoints", "string", 0, item -> joined(item.path("endpoints"),
            endpoint -> endpoint.at("/addresses/0").asText())));
        columns.add(age());
      }
      default -> columns.add(age());
    }
    return columns;
  }

  private Column age() {
    return new Column("Age", "string", 0, item -> {
      String created = item.at("/metadata/creationTimestamp").asText("");
      return created.isEmpty() ? "<unknown>" : human(Duration.between(Instant.parse(created), clock.instant()));
    });
  }

  private static String podReady(JsonNode pod) {
    int containers = pod.at("/spec/containers").size();
    int ready = 0;
    for (JsonNode status : pod.at("/status/containerStatuses")) {
      ready += status.path("ready").asBoolean(false) ? 1 : 0;
    }
    for (JsonNode init : pod.at("/spec/initContainers")) {
      if ("Always".equals(init.path("restartPolicy").asText())) {
        containers++;
      }
    }
    for (JsonNode status : pod.at("/status/initContainerStatuses")) {
      ready += status.path("ready").asBoolean(false) ? 1 : 0;
    }
    return ready + "/" + containers;
  }

  private static int restarts(JsonNode pod) {
    int restarts = 0;
    for (JsonNode status : pod.at("/status/containerStatuses")) {
      restarts += status.path("restartCount").asInt(0);
    }
    return restarts;
  }

  private static String joined(JsonNode items, Function<JsonNode, String> text) {
    List<String> parts = new ArrayList<>();
    items.forEach(item -> parts.add(text.apply(item)));
    return parts.isEmpty() ? "<none>" : parts.stream().collect(Collectors.joining(","));
  }

  private static String pointer(String jsonPath) {
    return jsonPath.startsWith(".") ? jsonPath.replace('.', '/') : "/" + jsonPath.replace('.', '/');
  }

  private static Object cell(JsonNode value, String type) {
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    return switch (type) {
      case "integer" -> value.asLong();
      case "number" -> value.asDouble();
      case "boolean" -> value.asBoolean();
      default -> value.isValueNode() ? value.asText() : value.toString();
    };
  }

  static String human(Duration age) {
    long seconds = Math.max(0, age.toSeconds());
    if (seconds < 120) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return seconds / 60 + "m";
    }
    if (seconds < 172800) {
      return seconds / 3600 + "h";
    }
    return seconds / 86400 + "d";
  }
}
