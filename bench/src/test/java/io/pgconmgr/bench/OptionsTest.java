package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void readsBothOptionFormsAndFallsBackToDefaults() {
        Options o = Options.parse("--duration=5", "--clients", "16", "--quick");

        assertThat(o.seconds("duration", 10)).isEqualTo(Duration.ofSeconds(5));
        assertThat(o.integer("clients", 8)).isEqualTo(16);
        assertThat(o.flag("quick")).isTrue();
        assertThat(o.integer("rounds", 2)).isEqualTo(2);
    }

    @Test
    void rejectsPositionalArgumentsAndNonIntegers() {
        assertThatThrownBy(() -> Options.parse("overhead")).hasMessageContaining("unexpected argument 'overhead'");
        assertThatThrownBy(() -> Options.parse("--clients=many").integer("clients", 8))
                .hasMessageContaining("--clients must be an integer, got 'many'");
    }
}
