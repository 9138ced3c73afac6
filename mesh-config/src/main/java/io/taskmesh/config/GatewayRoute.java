package io.taskmesh.config;

/**
 * @param host {@code null} to match any host
 * @param transcode whether REST/JSON requests are transcoded to gRPC by the service's {@code google.api.http} rules
 */
public record GatewayRoute(String pathPrefix, String host, String service, boolean transcode) {}
