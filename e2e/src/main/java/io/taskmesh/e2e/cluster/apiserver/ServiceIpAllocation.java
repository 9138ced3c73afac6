package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Gives each new Service of type ClusterIP (the default) an address from the service CIDR, as the API server's
 * service IP allocator does: a requested {@code spec.clusterIP} is kept if free and inside the range,
 * {@code None} makes a headless Service, the first address belongs to the {@code kubernetes} Service.
 * Addresses in use are read from the stored Services, so a deleted Service's address is free again.
 */
final class ServiceIpAllocation implements Admission {
  private final ObjectStore store;
  private final int network;
  private final int size;

  ServiceIpAllocation(ObjectStore store, String serviceCidr) {
    this.store = store;
    String[] parts = serviceCidr.split("/");
    int prefix = Integer.parseInt(parts[1]);
    if (prefix < 8 || prefix > 30) {
      throw new IllegalArgumentException("service CIDR " + serviceCidr + ": prefix must be between /8 and /30");
    }
    this.size = 1 << (32 - prefix);
    this.network = toInt(address(parts[0])) & -size;
  }

  /** The first address of the range, the {@code kubernetes} Service's. */
  String first() {
    return toText(network + 1);
  }

  @Override
  public synchronized ObjectNode admit(ApiRequest request, ObjectNode service, Optional<ObjectNode> old, Warnings warnings) {
    ObjectNode spec = service.withObjectProperty("spec");
    if (old.isPresent()) {
      // as the API server's patchAllocatedValues: an update that leaves the allocated address out keeps it
      JsonNode allocated = old.get().at("/spec/clusterIP");
      if (!spec.hasNonNull("clusterIP") && !allocated.isMissingNode()) {
        spec.set("clusterIP", allocated);
        spec.set("clusterIPs", old.get().at("/spec/clusterIPs"));
      }
      return service;
    }
    String type = spec.path("type").asText("ClusterIP");
    if (type.equals("ExternalName")) {
      return service;
    }
    String requested = spec.path("clusterIP").asText("");
    Set<String> used = new HashSet<>();
    store.list("/api/v1/services").forEach(existing -> used.add(existing.at("/spec/clusterIP").asText()));
    String chosen;
    if (requested.equals("None")) {
      chosen = "None";
    } else if (!requested.isEmpty()) {
      int wanted = toInt(address(requested));
      if ((wanted & -size) != network) {
        throw ApiException.invalid("Service", service.at("/metadata/name").asText(),
            "spec.clusterIP: Invalid value: \"" + requested + "\": provided IP is not in the valid range");
      }
      if (used.contains(requested)) {
        throw ApiException.invalid("Service", service.at("/metadata/name").asText(),
            "spec.clusterIP: Invalid value: \"" + requested + "\": provided IP is already allocated");
      }
      chosen = requested;
    } else {
      chosen = null;
      for (int offset = 2; offset < size - 1 && chosen == null; offset++) {
        String candidate = toText(network + offset);
        if (!used.contains(candidate)) {
          chosen = candidate;
        }
      }
      if (chosen == null) {
        throw new ApiException(500, "InternalError", "the service CIDR has no free address left");
      }
    }
    spec.put("type", type);
    spec.put("clusterIP", chosen);
    spec.putArray("clusterIPs").add(chosen);
    spec.put("sessionAffinity", spec.path("sessionAffinity").asText("None"));
    service.at("/spec/ports").forEach(port -> {
      ObjectNode p = (ObjectNode) port;
      p.put("protocol", p.path("protocol").asText("TCP"));
      if (!p.has("targetPort")) {
        p.set("targetPort", p.get("port"));
      }
    });
    return service;
  }

  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IPv4 address: " + text, e);
    }
  }

  private static int toInt(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != 4) {
      throw new IllegalArgumentException("only IPv4 service CIDRs are supported: " + address);
    }
    return (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | bytes[3] & 0xff;
  }

  private static String toText(int value) {
    return (value >>> 24) + "." + (value >>> 16 & 0xff) + "." + (value >>> 8 & 0xff) + "." + (value & 0xff);
  }
}
