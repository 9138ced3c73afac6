package io.taskmesh.config;

public record AdminConfig(int port) {}
