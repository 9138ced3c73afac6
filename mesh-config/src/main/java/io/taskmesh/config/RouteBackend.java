package io.taskmesh.config;

/**
 * A backend of a route rule (a GRPCRoute backendRef): a service whose endpoints discovery or the static
 * list provide, and its share of the rule's requests.
 *
 * @param weight relative to the rule's other backends; 0 sends it nothing
 */
public record RouteBackend(String service, int weight) {}
