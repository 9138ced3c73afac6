package io.taskmesh.operator.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.discovery.ServiceKey;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AuthorizationTablesTest {
  private static final SpiffeId SHOP_WEB = new SpiffeId("mesh.test", "shop", "web");
  private static final SpiffeId GATEWAY = new SpiffeId("mesh.test", "taskmesh-system", "taskmesh-gateway");
  private static final ServiceKey LEDGER = new ServiceKey("ledger", "bank");

  @Test
  void aPeerReachesItsOwnNamespaceAndAnotherOnlyWhenAnAllowRuleLetsItsNamespaceIn() {
    AuthorizationTables tables = new AuthorizationTables(Set.of("taskmesh-system"));
    assertThat(tables.mayDiscover(SHOP_WEB, new ServiceKey("tasks", "shop"))).isTrue();
    assertThat(tables.mayDiscover(SHOP_WEB, LEDGER)).isFalse();
    assertThat(tables.mayDiscover(GATEWAY, LEDGER)).as("the mesh's own namespace reaches every one").isTrue();

    tables.update(LEDGER, PolicyTranslator.withHash(InboundAuthorization.newBuilder().setDefaultDeny(true)
        .addRules(AuthorizationRule.newBuilder().setPolicy("bank/no-shop").setDeny(true)
            .addFrom(CallerMatch.newBuilder().setNamespace("shop")))));
    assertThat(tables.mayDiscover(SHOP_WEB, LEDGER)).as("a deny rule opens nothing").isFalse();

    tables.update(LEDGER, PolicyTranslator.withHash(InboundAuthorization.newBuilder().setDefaultDeny(true)
        .addRules(AuthorizationRule.newBuilder().setPolicy("bank/shop-web")
            .addFrom(CallerMatch.newBuilder().setIdentity(SHOP_WEB.uri())))));
    assertThat(tables.mayDiscover(SHOP_WEB, LEDGER)).isTrue();
  }
}
