package io.taskmesh.operator.lifecycle;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/** An informer handler that runs one reaction on every add, update and delete, whatever the object. */
public final class EveryChange<T> implements ResourceEventHandler<T> {
  private final Runnable reaction;

  public EveryChange(Runnable reaction) {
    this.reaction = reaction;
  }

  @Override
  public void onAdd(T added) {
    reaction.run();
  }

  @Override
  public void onUpdate(T before, T after) {
    reaction.run();
  }

  @Override
  public void onDelete(T deleted, boolean finalStateUnknown) {
    reaction.run();
  }
}
