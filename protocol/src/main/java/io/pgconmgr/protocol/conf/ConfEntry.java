package io.pgconmgr.protocol.conf;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One {@code name = value} line of a file in postgresql.conf syntax, with typed readers that
 * report a bad value as an {@link InvalidValueException} naming the file, the line and the rule.
 *
 * @param file   the file name given to {@link ConfFile#parse}
 * @param line   the 1-based line of the setting
 * @param name   the parameter name in lower case (names are case-insensitive), dots kept ({@code watchdog.port})
 * @param value  the value with quotes removed and escapes resolved
 * @param quoted whether the value was written in single quotes
 */
public record ConfEntry(String file, int line, String name, String value, boolean quoted) {

  /** The value as the user wrote it, for messages: {@code 70000} or {@code 'a b'}. */
  public String written() {
    return quoted ? ConfFile.quote(value) : value;
  }

  /** A problem located at this entry; the message should start with what it is about. */
  public ConfProblem problem(String message) {
    return new ConfProblem(file, line, name, message);
  }

  /**
   * The value as a decimal integer between {@code min} and {@code max} inclusive. Quoted digits are
   * accepted like PostgreSQL does; hexadecimal, octal-looking leading zeros and units are not.
   */
  public int intValue(int min, int max) throws InvalidValueException {
    String v = value.trim();
    if (!v.matches("[+-]?[0-9]+")) {
      throw invalid(name + " = " + written() + " is not a whole number in decimal");
    }
    String digits = v.replaceFirst("^[+-]", "");
    if (digits.length() > 1 && digits.startsWith("0")) {
      // PostgreSQL would read 010 as octal 8: refuse rather than guess.
      throw invalid(name + " = " + written() + " has a leading zero: write the number in decimal without it");
    }
    long parsed;
    try {
      parsed = Long.parseLong(v);
    } catch (NumberFormatException tooLong) {
      parsed = v.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    if (parsed < min || parsed > max) {
      throw invalid(name + " = " + written() + " is out of range: " + rangeRule(min, max));
    }
    return (int) parsed;
  }

  /** The value as a constant of {@code type}, by name, case-insensitively, '-' read as '_'. */
  public <E extends Enum<E>> E enumValue(Class<E> type) throws InvalidValueException {
    String wanted = value.trim().replace('-', '_').toUpperCase(Locale.ROOT);
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equals(wanted)) {
        return constant;
      }
    }
    String allowed = Arrays.stream(type.getEnumConstants()).map(Enum::name)
        .collect(Collectors.joining(", "));
    throw invalid(name + " = " + written() + " is not valid: must be one of " + allowed);
  }

  /** The value as a boolean with PostgreSQL's spellings: on/off, true/false, yes/no, 1/0 (and unique prefixes). */
  public boolean booleanValue() throws InvalidValueException {
    Optional<Boolean> b = parseBoolean(value.trim().toLowerCase(Locale.ROOT));
    if (b.isEmpty()) {
      throw invalid(name + " = " + written() + " is not a boolean: use on or off (or true/false, yes/no, 1/0)");
    }
    return b.get();
  }

  /** Builds the exception for a value-specific rule the caller checks itself. */
  public InvalidValueException invalid(String message) {
    return new InvalidValueException(problem(message));
  }

  /** The rule text of a range, shared by every integer message: "must be between 1 and 65535". */
  public static String rangeRule(int min, int max) {
    if (max == Integer.MAX_VALUE) {
      return "must be at least " + min;
    }
    return "must be between " + min + " and " + max;
  }

  private static Optional<Boolean> parseBoolean(String v) {
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.equals("on")) {
      return Optional.of(true);
    }
    if (v.equals("of") || v.equals("o")) {
      return Optional.empty(); // ambiguous between on and off, as in PostgreSQL
    }
    if ("off".startsWith(v) || "false".startsWith(v) || "no".startsWith(v) || v.equals("0")) {
      return Optional.of(false);
    }
    if ("true".startsWith(v) || "yes".startsWith(v) || v.equals("1")) {
      return Optional.of(true);
    }
    return Optional.empty();
  }
}
