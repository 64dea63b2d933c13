package io.pgconmgr.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sample InstanceSets validated against the generated openAPIV3Schema with a JSON-schema validator:
 * ranges, enums, required fields, patterns and sizes. The CEL rules (x-kubernetes-validations) need an
 * API server to run; here we check they are in the schema with their messages.
 */
class CrdSchemaTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static JsonNode crd;
  private static JsonSchema schema;

  @BeforeAll
  static void loadSchema() throws IOException {
    crd = YAML.readTree(CrdUpToDateTest.generatedCrd());
    JsonNode openApi = crd.at("/spec/versions/0/schema/openAPIV3Schema");
    schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(openApi);
  }

  @Test
  void fullExampleAndMinimalSetAreValid() throws IOException {
    assertThat(validate(full())).isEmpty();
    assertThat(validate(minimal())).isEmpty();
  }

  @Test
  void outOfRangeValuesAreRejectedNamingTheField() throws IOException {
    assertRejected(s -> s.with("conmgr").put("port", 70000), "$.spec.conmgr.port", "maximum");
    assertRejected(s -> s.with("conmgr").put("port", 0), "$.spec.conmgr.port", "minimum");
    assertRejected(s -> s.with("conmgr").put("heartbeatInterval", 0), "$.spec.conmgr.heartbeatInterval", "minimum");
    assertRejected(s -> s.with("conmgr").put("heartbeatTimeout", 0), "$.spec.conmgr.heartbeatTimeout", "minimum");
    assertRejected(s -> s.with("conmgr").put("heartbeatConnectInterval", 0), "$.spec.conmgr.heartbeatConnectInterval", "minimum");
    assertRejected(s -> s.with("conmgr").put("heartbeatConnectTimeout", 0), "$.spec.conmgr.heartbeatConnectTimeout", "minimum");
    assertRejected(s -> s.with("conmgr").put("maxConnections", -1), "$.spec.conmgr.maxConnections", "minimum");
    assertRejected(s -> s.with("conmgr").put("httpPort", 65536), "$.spec.conmgr.httpPort", "maximum");
    assertRejected(s -> s.with("watchdog").put("checkAttrInterval", 0), "$.spec.watchdog.checkAttrInterval", "minimum");
    assertRejected(s -> s.with("watchdog").put("port", 65536), "$.spec.watchdog.port", "maximum");
    assertRejected(s -> s.with("watchdog").put("maxHeartbeatConnections", 0), "$.spec.watchdog.maxHeartbeatConnections", "minimum");
    assertRejected(s -> ((ObjectNode) s.withArray("instances").get(0)).put("port", 0), "$.spec.instances[0].port", "minimum");
    assertRejected(s -> ((ObjectNode) s.withArray("instances").get(1)).put("watchdogPort", 99999),
        "$.spec.instances[1].watchdogPort", "maximum");
    assertRejected(s -> s.with("postgresSelector").put("port", -5), "$.spec.postgresSelector.port", "minimum");
  }

  @Test
  void unknownEnumValuesAreRejected() throws IOException {
    assertRejected(s -> s.with("conmgr").put("syslogFacility", "LOCAL8"), "$.spec.conmgr.syslogFacility", "enum");
    assertRejected(s -> s.with("conmgr").put("logMinMessages", "VERBOSE"), "$.spec.conmgr.logMinMessages", "enum");
    assertRejected(s -> s.with("conmgr").put("targetSessionAttrs", "read_write"), "$.spec.conmgr.targetSessionAttrs", "enum");
    assertRejected(s -> s.with("conmgr").putArray("logDestination").add("eventlog"), "$.spec.conmgr.logDestination[0]", "enum");
    assertRejected(s -> s.with("images").put("pullPolicy", "Sometimes"), "$.spec.images.pullPolicy", "enum");
  }

  @Test
  void missingRequiredValuesAreRejected() throws IOException {
    assertRejected(s -> ((ObjectNode) s.with("conmgr").withArray("listeners").get(0)).remove("targetSessionAttrs"),
        "$.spec.conmgr.listeners[0]", "required");
    assertRejected(s -> ((ObjectNode) s.with("conmgr").withArray("listeners").get(0)).remove("port"),
        "$.spec.conmgr.listeners[0]", "required");
    assertRejected(s -> s.with("postgresSelector").remove("matchLabels"), "$.spec.postgresSelector", "required");
    assertRejected(s -> s.with("postgresSelector").putObject("matchLabels"), "$.spec.postgresSelector.matchLabels", "minProperties");
    assertRejected(s -> s.with("conmgr").putArray("logDestination"), "$.spec.conmgr.logDestination", "minItems");
  }

  @Test
  void malformedAndOversizedValuesAreRejected() throws IOException {
    assertRejected(s -> ((ObjectNode) s.withArray("instances").get(1)).put("hostaddr", "not an address"),
        "$.spec.instances[1].hostaddr", "pattern");
    assertRejected(s -> ((ObjectNode) s.withArray("instances").get(0)).put("host", "bad host name"),
        "$.spec.instances[0].host", "pattern");
    assertRejected(s -> s.with("watchdog").put("user", "robert'); drop"), "$.spec.watchdog.user", "pattern");
    assertRejected(s -> s.with("conmgr").put("port", "6432"), "$.spec.conmgr.port", "type");
    assertRejected(s -> {
      ArrayNode listeners = s.with("conmgr").putArray("listeners");
      for (int i = 0; i < 17; i++) {
        listeners.addObject().put("port", 7000 + i).put("targetSessionAttrs", "any");
      }
    }, "$.spec.conmgr.listeners", "maxItems");
  }

  @Test
  void rulesSpanningFieldsAreCelRulesWithReadableMessages() {
    JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
    assertThat(rules(spec)).anyMatch(r -> r.contains("spec.instances or select their pods with spec.postgresSelector"));
    assertThat(rules(spec.at("/properties/instances/items"))).containsExactly("an instance needs a host or a hostaddr");
    assertThat(rules(spec.at("/properties/conmgr"))).containsExactlyInAnyOrder(
        "heartbeatTimeout must be greater than heartbeatInterval, otherwise every heartbeat link is always down",
        "a listener port must differ from port and httpPort",
        "listener ports must be unique",
        "port and httpPort must differ");
  }

  @Test
  void printerColumnsShowPrimaryReadyAndAge() {
    assertThat(crd.at("/spec/versions/0/additionalPrinterColumns").findValuesAsText("name"))
        .containsExactlyInAnyOrder("PRIMARY", "READY", "AGE");
    assertThat(crd.at("/spec/versions/0/subresources/status").isObject()).isTrue();
  }

  private static List<String> rules(JsonNode node) {
    return node.path("x-kubernetes-validations").findValuesAsText("message");
  }

  private static void assertRejected(Consumer<ObjectNode> breakSpec, String path, String keyword) throws IOException {
    JsonNode cr = full();
    breakSpec.accept((ObjectNode) cr.get("spec"));
    Set<ValidationMessage> errors = validate(cr);
    assertThat(errors).as("errors for a CR with a bad %s", path)
        .anyMatch(e -> e.getInstanceLocation().toString().equals(path) && e.getType().equals(keyword));
    errors.forEach(e -> System.out.println("rejected as expected: " + e.getMessage()));
  }

  private static Set<ValidationMessage> validate(JsonNode cr) {
    return schema.validate(cr);
  }

  private static JsonNode full() throws IOException {
    return YAML.readTree(Path.of("src/test/resources/crd/instanceset-full.yaml").toFile());
  }

  private static JsonNode minimal() throws IOException {
    return YAML.readTree("""
        apiVersion: pgconmgr.io/v1alpha1
        kind: InstanceSet
        metadata: {name: tiny, namespace: default}
        spec:
          postgresSelector:
            matchLabels: {app: pg}
        """);
  }
}
