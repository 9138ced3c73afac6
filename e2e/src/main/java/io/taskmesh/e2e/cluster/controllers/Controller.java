package io.taskmesh.e2e.cluster.controllers;

/** One control loop: reads the objects it cares about as they are now and moves them one step toward desired. */
interface Controller {
  void reconcile();
}
