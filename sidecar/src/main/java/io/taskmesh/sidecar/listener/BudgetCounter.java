package io.taskmesh.sidecar.listener;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@code taskmesh_listener_budget_exceeded_total{listener,budget}}: each time one listener's budget fires. */
public final class BudgetCounter {
  private final MeterRegistry registry;
  private final String listener;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  /** @param listener {@code outbound}, {@code inbound}, {@code gateway} or {@code admin} */
  public BudgetCounter(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
  }

  public String listener() {
    return listener;
  }

  /** @param budget a fixed name, e.g. {@code idle_timeout}; never caller input (it is a label) */
  public void exceeded(String budget) {
    counters.computeIfAbsent(budget, name -> Counter.builder("taskmesh.listener.budget.exceeded")
        .description("times a listener budget refused or closed something")
        .tag("listener", listener).tag("budget", name).register(registry)).increment();
  }
}
