package io.pgconmgr.protocol.conf;

/**
 * One error or warning about a settings file or a model built in code, printed the way compilers
 * print theirs: {@code conmgr.conf:12: backend_port3 = 70000 is out of range: must be between 1 and 65535}.
 *
 * @param file      the file name as given by the caller; null when the model was built in code
 * @param line      the 1-based line; 0 when the problem concerns no single line
 * @param parameter the parameter concerned (lower case, e.g. {@code backend_port3}); null for syntax errors
 * @param message   what is wrong, in words a user understands
 */
public record ConfProblem(String file, int line, String parameter, String message) {

  /** A problem of a model built in code, located by its parameter only. */
  static ConfProblem ofParameter(String parameter, String message) {
    return new ConfProblem(null, 0, parameter, message);
  }

  /** This problem placed in a file at a line (0 for the whole file). */
  public ConfProblem at(String file, int line) {
    return new ConfProblem(file, line, parameter, message);
  }

  @Override
  public String toString() {
    if (file == null) {
      return message;
    }
    return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
  }
}
