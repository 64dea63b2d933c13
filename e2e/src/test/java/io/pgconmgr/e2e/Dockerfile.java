package io.pgconmgr.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A Dockerfile read as its instructions (continuation lines joined, comments dropped), enough to check invariants. */
record Dockerfile(Path path, List<Instruction> instructions) {

  /** One instruction: keyword in upper case and its arguments as written. */
  record Instruction(String keyword, String arguments) {
  }

  static Dockerfile read(Path path) throws IOException {
    List<Instruction> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(path)) {
      String stripped = line.strip();
      if (current.length() == 0 && (stripped.isEmpty() || stripped.startsWith("#"))) {
        continue;
      }
      if (current.length() > 0 && stripped.startsWith("#")) {
        continue; // a comment inside a continued instruction
      }
      if (stripped.endsWith("\\")) {
        current.append(stripped, 0, stripped.length() - 1).append(' ');
        continue;
      }
      current.append(stripped);
      String text = current.toString().strip();
      current.setLength(0);
      int space = text.indexOf(' ');
      instructions.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
    }
    return new Dockerfile(path, List.copyOf(instructions));
  }

  List<Instruction> all(String keyword) {
    return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
  }

  /** The instructions of the last stage: everything after the last FROM. */
  Dockerfile finalStage() {
    int last = 0;
    for (int i = 0; i < instructions.size(); i++) {
      if (instructions.get(i).keyword().equals("FROM")) {
        last = i;
      }
    }
    return new Dockerfile(path, instructions.subList(last, instructions.size()));
  }

  Optional<String> lastArguments(String keyword) {
    List<Instruction> found = all(keyword);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1).arguments());
  }

  /** The default value of a build ARG, e.g. {@code ARG JRE_IMAGE=eclipse-temurin:17-jre-noble}. */
  Optional<String> argDefault(String name) {
    return all("ARG").stream().map(Instruction::arguments).filter(a -> a.startsWith(name + "="))
        .map(a -> a.substring(name.length() + 1)).findFirst();
  }

  /** The value of an ENV, with ${NAME} of earlier ENVs substituted. */
  Optional<String> env(String name) {
    java.util.Map<String, String> values = new java.util.HashMap<>();
    for (Instruction env : all("ENV")) {
      int eq = env.arguments().indexOf('=');
      String key = env.arguments().substring(0, eq);
      String value = env.arguments().substring(eq + 1);
      if (value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      for (var known : values.entrySet()) {
        value = value.replace("${" + known.getKey() + "}", known.getValue()).replace("$" + known.getKey(), known.getValue());
      }
      values.put(key, value);
    }
    return Optional.ofNullable(values.get(name));
  }
}
