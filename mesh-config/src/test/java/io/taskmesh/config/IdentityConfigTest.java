package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class IdentityConfigTest {

  @Test
  void withoutAnIdentitySectionTheProxyHasNoCertificateAndItsHashIsUnchanged() {
    MeshConfig config = MeshConfigParser.parse("service: billing\n");

    assertThat(config.identity()).isEqualTo(IdentityConfig.OFF);
    assertThat(MeshConfigWriter.toTree(config)).doesNotContainKey("identity");
  }

  @Test
  void aStrictIdentityIsReadWithItsDefaultsAndWrittenBackTheSame() {
    MeshConfig config = MeshConfigParser.parse("""
        service: billing
        identity: {mode: strict, trustDomain: prod.example, issuer: "taskmesh-operator.taskmesh-system.svc:15012"}
        """);

    assertThat(config.identity()).isEqualTo(new IdentityConfig(IdentityMode.STRICT, "prod.example",
        "taskmesh-operator.taskmesh-system.svc:15012", IdentityConfig.DEFAULT_TOKEN_PATH,
        IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH, Duration.ofHours(24)));
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(config))).isEqualTo(config);
    assertThat(MeshConfigWriter.hash(config)).isNotEqualTo(MeshConfigWriter.hash(MeshConfig.defaults("billing")));
  }

  @Test
  void anUnquotedOffIsTheOffModeThoughYamlReadsItAsFalse() {
    assertThat(MeshConfigParser.parse("service: a\nidentity: {mode: off}\n").identity()).isEqualTo(IdentityConfig.OFF);
    assertThatThrownBy(() -> MeshConfigParser.parse("service: a\nidentity: {mode: true}\n"))
        .hasMessageContaining("identity.mode");
  }

  @Test
  void aModeOtherThanOffNeedsAnIssuer() {
    assertThatThrownBy(() -> MeshConfigParser.parse("service: a\nidentity: {mode: permissive}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("identity.issuer").hasMessageContaining("required");
  }

  @Test
  void badValuesAreRefusedNamingTheirKey() {
    String base = "service: a\nidentity: {mode: permissive, issuer: \"op:15012\", ";
    assertThatThrownBy(() -> MeshConfigParser.parse(base + "trustDomain: \"Bad/Domain\"}\n"))
        .hasMessageContaining("identity.trustDomain");
    assertThatThrownBy(() -> MeshConfigParser.parse(base + "tokenPath: relative/token}\n"))
        .hasMessageContaining("identity.tokenPath").hasMessageContaining("absolute");
    assertThatThrownBy(() -> MeshConfigParser.parse(base + "certLifetime: 1m}\n"))
        .hasMessageContaining("identity.certLifetime");
    assertThatThrownBy(() -> MeshConfigParser.parse("service: a\nidentity: {mode: sometimes}\n"))
        .hasMessageContaining("identity.mode");
    assertThatThrownBy(() -> MeshConfigParser.parse("service: a\nidentity: {mode: off, issuer: nohost}\n"))
        .hasMessageContaining("identity.issuer");
    assertThatThrownBy(() -> MeshConfigParser.parse("service: a\nidentity: {trustdomain: x}\n"))
        .hasMessageContaining("identity.trustdomain").hasMessageContaining("unknown key");
  }
}
