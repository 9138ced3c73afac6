package io.taskmesh.config;

/** @param file a protobuf descriptor set file */
public record DescriptorsConfig(String file) {}
