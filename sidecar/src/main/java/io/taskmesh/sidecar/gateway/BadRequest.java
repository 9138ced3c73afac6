package io.taskmesh.sidecar.gateway;

/** A request the gateway refuses with HTTP 400; the message names what is wrong (a field, the JSON, a parameter). */
final class BadRequest extends Exception {
  BadRequest(String message) {
    super(message, null, false, false);
  }
}
