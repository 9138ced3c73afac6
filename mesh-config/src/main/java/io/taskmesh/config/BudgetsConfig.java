package io.taskmesh.config;

/** The budgets of each listener and of upstream connections ({@code budgets:} in the config). */
public record BudgetsConfig(
    ListenerBudgets outbound,
    ListenerBudgets inbound,
    ListenerBudgets gateway,
    ListenerBudgets admin,
    UpstreamConnectionBudgets upstream) {

  public static final BudgetsConfig DEFAULT = new BudgetsConfig(ListenerBudgets.MESH, ListenerBudgets.INBOUND,
      ListenerBudgets.GATEWAY, ListenerBudgets.ADMIN, UpstreamConnectionBudgets.DEFAULT);
}
