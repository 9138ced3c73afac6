package io.taskmesh.operator.discovery;

import java.time.Duration;

/**
 * What one peer may ask of the discovery server, and the HTTP/2 limits of its listener.
 *
 * @param maxServices names in one SubscribeRequest's {@code services}
 * @param maxAddresses entries in one SubscribeRequest's {@code addresses}
 * @param maxNameLength characters of one name or address (a DNS name is at most 253)
 * @param maxStreamsPerConnection Subscribe streams open at once on one connection; the next gets RESOURCE_EXHAUSTED
 * @param maxMessageBytes size of one inbound message (room for a request at both caps)
 * @param maxMetadataBytes size of one inbound header block
 * @param maxConnectionAge after this a connection is told to go away (GOAWAY), so that reconnecting sidecars
 *     spread over the replicas that exist now
 * @param maxConnectionAgeGrace how long its streams may still run after that GOAWAY
 * @param debounce the shortest time between two pushes; changes within it gather into the next push, so a burst of
 *     EndpointSlice events costs two pushes while an isolated change is pushed at once
 */
public record DiscoveryLimits(int maxServices, int maxAddresses, int maxNameLength, int maxStreamsPerConnection,
    int maxMessageBytes, int maxMetadataBytes, Duration maxConnectionAge, Duration maxConnectionAgeGrace,
    Duration debounce) {

  public static final DiscoveryLimits DEFAULTS = new DiscoveryLimits(1_000, 1_000, 253, 16,
      1024 * 1024, 8 * 1024, Duration.ofMinutes(30), Duration.ofMinutes(1), Duration.ofMillis(50));

  public DiscoveryLimits withDebounce(Duration value) {
    return new DiscoveryLimits(maxServices, maxAddresses, maxNameLength, maxStreamsPerConnection, maxMessageBytes,
        maxMetadataBytes, maxConnectionAge, maxConnectionAgeGrace, value);
  }
}
