package io.taskmesh.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SpiffeIdTest {

  @Test
  void aWorkloadIdIsReadAndWrittenBack() {
    SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/billing");

    assertThat(id).isEqualTo(new SpiffeId("cluster.local", "shop", "billing"));
    assertThat(id.uri()).isEqualTo("spiffe://cluster.local/ns/shop/sa/billing");
  }

  @Test
  void otherUrisAreRefused() {
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://cluster.local/billing")).hasMessageContaining("not a workload");
    assertThatThrownBy(() -> SpiffeId.parse("https://cluster.local/ns/a/sa/b")).hasMessageContaining("not a workload");
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://cluster.local/ns/a/sa/b/c")).hasMessageContaining("not a workload");
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://Cluster.Local/ns/a/sa/b")).hasMessageContaining("trust domain");
    assertThatThrownBy(() -> new SpiffeId("cluster.local", "-a", "b")).hasMessageContaining("namespace");
  }
}
