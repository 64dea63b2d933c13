package io.pgconmgr.protocol.conf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A file in postgresql.conf syntax, read into its {@code name = value} entries. It knows the syntax
 * only, not which parameters exist: conmgr.conf and the watchdog settings file both build on it.
 *
 * <p>The syntax, as PostgreSQL reads postgresql.conf:
 * <ul>
 *   <li>one setting per line: a name, an optional {@code =}, a value; blank lines are ignored;</li>
 *   <li>{@code #} starts a comment that runs to the end of the line (outside quotes);</li>
 *   <li>names start with a letter or {@code _}, go on with letters, digits, {@code _} or {@code $},
 *       may have dotted parts ({@code watchdog.port}), and are case-insensitive (kept in lower case);</li>
 *   <li>a value is either a bare word made of letters, digits and {@code _ $ - + . : /}, or a string
 *       in single quotes where {@code ''} and {@code \'} stand for a quote, {@code \\} for a backslash,
 *       {@code \b \f \n \r \t} for those controls, {@code \ooo} for an octal byte; any other
 *       {@code \x} stands for {@code x}.</li>
 * </ul>
 *
 * <p>Syntax errors do not stop the reading: every bad line is reported in {@link #errors()} and the
 * good lines still give entries, so a caller can report all problems of the file at once.
 * A name set twice gives two entries; {@link #settings()} keeps the last, as PostgreSQL does.
 */
public final class ConfFile {

  private final String fileName;
  private final List<ConfEntry> entries;
  private final List<ConfProblem> errors;

  private ConfFile(String fileName, List<ConfEntry> entries, List<ConfProblem> errors) {
    this.fileName = fileName;
    this.entries = List.copyOf(entries);
    this.errors = List.copyOf(errors);
  }

  /** Reads a UTF-8 file; problems are named after the file's last path element. */
  public static ConfFile read(Path path) throws IOException {
    String text = Files.readString(path, StandardCharsets.UTF_8);
    return parse(text, path.getFileName().toString());
  }

  /**
   * Reads {@code text}; {@code fileName} only appears in problems ({@code conmgr.conf:3: ...}).
   * Never throws for bad syntax: see {@link #errors()}.
   */
  public static ConfFile parse(String text, String fileName) {
    List<ConfEntry> entries = new ArrayList<>();
    List<ConfProblem> errors = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
      new LineReader(fileName, i + 1, line).read(entries, errors);
    }
    return new ConfFile(fileName, entries, errors);
  }

  /** The file name problems are reported under. */
  public String fileName() {
    return fileName;
  }

  /** Every setting in file order, duplicates included. */
  public List<ConfEntry> entries() {
    return entries;
  }

  /** The syntax errors, in file order; empty when the whole file is well formed. */
  public List<ConfProblem> errors() {
    return errors;
  }

  /** The effective setting of each name (the last one written), in order of first appearance. */
  public Map<String, ConfEntry> settings() {
    Map<String, ConfEntry> last = new LinkedHashMap<>();
    for (ConfEntry e : entries) {
      last.put(e.name(), e);
    }
    return last;
  }

  /** The effective setting of {@code name} (any case), if the file sets it. */
  public Optional<ConfEntry> get(String name) {
    return Optional.ofNullable(settings().get(name.toLowerCase(Locale.ROOT)));
  }

  /** Throws a {@link ConfException} carrying every syntax error, if there is any. */
  public ConfFile requireWellFormed() throws ConfException {
    if (!errors.isEmpty()) {
      throw new ConfException(errors);
    }
    return this;
  }

  /**
   * The known name closest to an unknown {@code name}, for a "did you mean" hint: empty unless it
   * is within a few edits (about one per five characters, at least two).
   */
  public static Optional<String> closestName(String name, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int d = editDistance(name, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return bestDistance <= Math.max(2, name.length() / 5) ? Optional.of(best) : Optional.empty();
  }

  /** Levenshtein distance; names are short, so the quadratic table is fine. */
  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /**
   * Writes {@code value} as a single-quoted string that {@link #parse} reads back unchanged:
   * quotes are doubled, backslashes and control characters escaped.
   */
  public static String quote(String value) {
    StringBuilder out = new StringBuilder(value.length() + 2).append('\'');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\'' -> out.append("''");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            out.append(String.format("\\%03o", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('\'').toString();
  }

  /** Reads one line; a small hand-written scanner, because the rules fit in a few branches. */
  private static final class LineReader {
    private final String file;
    private final int lineNo;
    private final String line;
    private int pos;

    LineReader(String file, int lineNo, String line) {
      this.file = file;
      this.lineNo = lineNo;
      this.line = line;
    }

    void read(List<ConfEntry> entries, List<ConfProblem> errors) {
      skipSpace();
      if (atEndOfSetting()) {
        return;
      }
      int nameStart = pos;
      if (!readName()) {
        errors.add(error(null, "syntax error near \"" + rest() + "\": a setting must start with a parameter name"));
        return;
      }
      String name = line.substring(nameStart, pos).toLowerCase(Locale.ROOT);
      skipSpace();
      if (pos < line.length() && line.charAt(pos) == '=') {
        pos++;
        skipSpace();
      }
      if (atEndOfSetting()) {
        errors.add(error(name, "parameter " + name + " has no value"));
        return;
      }
      String value;
      boolean quoted = line.charAt(pos) == '\'';
      if (quoted) {
        value = readQuoted();
        if (value == null) {
          errors.add(error(name, "the quoted value of " + name + " has no closing quote (a string must end on its line)"));
          return;
        }
      } else {
        int start = pos;
        while (pos < line.length() && isBareValueChar(line.charAt(pos))) {
          pos++;
        }
        value = line.substring(start, pos);
        if (value.isEmpty()) {
          errors.add(error(name, "syntax error near \"" + rest() + "\": the value of " + name
              + " contains characters that need single quotes"));
          return;
        }
      }
      skipSpace();
      if (!atEndOfSetting()) {
        errors.add(error(name, "syntax error near \"" + rest() + "\": only one value per line; "
            + "put a value with spaces or special characters in single quotes"));
        return;
      }
      entries.add(new ConfEntry(file, lineNo, name, value, quoted));
    }

    private boolean readName() {
      if (!readIdentifier()) {
        return false;
      }
      while (pos < line.length() && line.charAt(pos) == '.') {
        pos++;
        if (!readIdentifier()) {
          return false;
        }
      }
      return true;
    }

    private boolean readIdentifier() {
      if (pos >= line.length() || !(Character.isLetter(line.charAt(pos)) || line.charAt(pos) == '_')) {
        return false;
      }
      pos++;
      while (pos < line.length()) {
        char c = line.charAt(pos);
        if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$')) {
          break;
        }
        pos++;
      }
      return true;
    }

    /** Reads from the opening quote; returns null when the line ends first. */
    private String readQuoted() {
      StringBuilder out = new StringBuilder();
      pos++; // opening quote
      while (pos < line.length()) {
        char c = line.charAt(pos++);
        if (c == '\'') {
          if (pos < line.length() && line.charAt(pos) == '\'') {
            out.append('\'');
            pos++;
            continue;
          }
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (pos >= line.length()) {
          return null;
        }
        char e = line.charAt(pos++);
        switch (e) {
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          default -> {
            if (e >= '0' && e <= '7') {
              int code = e - '0';
              for (int k = 0; k < 2 && pos < line.length() && line.charAt(pos) >= '0' && line.charAt(pos) <= '7'; k++) {
                code = code * 8 + (line.charAt(pos++) - '0');
              }
              out.append((char) (code & 0xff));
            } else {
              out.append(e);
            }
          }
        }
      }
      return null;
    }

    private static boolean isBareValueChar(char c) {
      return Character.isLetterOrDigit(c) || "_$-+.:/".indexOf(c) >= 0;
    }

    private void skipSpace() {
      while (pos < line.length() && " \t\f\r\u000b".indexOf(line.charAt(pos)) >= 0) {
        pos++;
      }
    }

    private boolean atEndOfSetting() {
      return pos >= line.length() || line.charAt(pos) == '#';
    }

    private String rest() {
      String r = line.substring(pos).strip();
      return r.length() > 40 ? r.substring(0, 40) + "..." : r;
    }

    private ConfProblem error(String name, String message) {
      return new ConfProblem(file, lineNo, name, message);
    }
  }
}
