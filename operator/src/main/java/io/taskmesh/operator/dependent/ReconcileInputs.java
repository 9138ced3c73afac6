package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.TaskService;

/**
 * What the reconciler hands its dependents for one reconcile. JOSDK makes the dependents itself, so they
 * cannot take the operator's settings in a constructor; the reconciler puts them in the workflow's context
 * before it runs the workflow, and each {@code desired()} reads them from there.
 */
public final class ReconcileInputs {
  private static final String SETTINGS = "taskmesh.operator-settings";

  private ReconcileInputs() {}

  public static void provide(Context<TaskService> context, OperatorSettings settings) {
    context.managedWorkflowAndDependentResourceContext().put(SETTINGS, settings);
  }

  static OperatorSettings settings(Context<TaskService> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(SETTINGS, OperatorSettings.class);
  }
}
