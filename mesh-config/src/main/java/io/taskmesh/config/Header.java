package io.taskmesh.config;

/** A header name and an exact value: one a route matches, or one it sets or adds. */
public record Header(String name, String value) {}
