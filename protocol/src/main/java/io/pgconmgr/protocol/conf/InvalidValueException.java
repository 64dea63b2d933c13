package io.pgconmgr.protocol.conf;

/** A value of a {@link ConfEntry} that does not fit its parameter; {@link #problem()} says where and why. */
public final class InvalidValueException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient ConfProblem problem;

  InvalidValueException(ConfProblem problem) {
    super(problem.toString());
    this.problem = problem;
  }

  /** The located problem, ready to be collected with the others of the file. */
  public ConfProblem problem() {
    return problem;
  }
}
