package io.pgconmgr.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The example InstanceSets are valid against the CRD's schema, as `kubectl apply` would check them. */
class ExampleSchemaTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"instanceset-statefulset.yaml", "instanceset-cloudnativepg.yaml"})
  void exampleInstanceSetsMatchTheCrdSchema(String file) throws IOException {
    for (JsonNode set : instanceSets(file)) {
      assertThat(schema().validate(set)).as("%s against the CRD schema", file).isEmpty();
    }
  }

  @Test
  void schemaCheckRejectsAnOutOfRangeValue() throws IOException {
    // Shows the check above can fail: the same example with a heartbeat interval of 0.
    ObjectNode set = (ObjectNode) instanceSets("instanceset-statefulset.yaml").get(0).deepCopy();
    ((ObjectNode) set.path("spec").path("conmgr")).put("heartbeatInterval", 0);
    Set<ValidationMessage> errors = schema().validate(set);
    assertThat(errors).extracting(ValidationMessage::getMessage).anySatisfy(m -> assertThat(m).contains("heartbeatInterval"));
  }

  private static JsonSchema schema() throws IOException {
    JsonNode crd = new ObjectMapper(new YAMLFactory()).readTree(
        RenderedChart.repoRoot().resolve("crds/instancesets.pgconmgr.io-v1.yml").toFile());
    JsonNode openApi = crd.at("/spec/versions/0/schema/openAPIV3Schema");
    assertThat(openApi.isMissingNode()).as("the CRD has an openAPIV3Schema").isFalse();
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(openApi);
  }

  private static List<JsonNode> instanceSets(String file) throws IOException {
    List<JsonNode> sets = new java.util.ArrayList<>();
    for (HasMetadata object : ExamplesTest.load(file)) {
      if ("InstanceSet".equals(object.getKind())) {
        sets.add(JSON.readTree(Serialization.asJson(object)));
      }
    }
    return sets;
  }
}
