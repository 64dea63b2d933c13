package io.pgconmgr.protocol.conf;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A settings file or model that cannot be used. It carries every error found, not only the first,
 * so one run shows the user all there is to fix; the message lists them one per line.
 */
public final class ConfException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient List<ConfProblem> errors;

  public ConfException(List<ConfProblem> errors) {
    super(describe(errors));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a ConfException needs at least one error");
    }
    this.errors = List.copyOf(errors);
  }

  /** Every error, in file order. */
  public List<ConfProblem> errors() {
    return errors;
  }

  private static String describe(List<ConfProblem> errors) {
    if (errors.size() == 1) {
      return errors.get(0).toString();
    }
    return errors.size() + " errors:\n" + errors.stream().map(ConfProblem::toString)
        .collect(Collectors.joining("\n"));
  }
}
