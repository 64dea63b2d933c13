package io.pgconmgr.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/** A temp directory under /tmp that unprivileged servers can read (config files, logs); deleted on close. */
public final class WorkDir implements AutoCloseable {

    private final Path dir;

    public WorkDir(String prefix) {
        try {
            dir = Files.createTempDirectory(Path.of("/tmp"), "pgconmgr-bench-" + prefix + "-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path path() {
        return dir;
    }

    public Path resolve(String name) {
        return dir.resolve(name);
    }

    /** Writes a file readable by everyone (servers may run as another user). */
    public Path write(String name, String content) {
        try {
            Path p = dir.resolve(name);
            Files.writeString(p, content);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: /tmp is cleaned eventually
        }
    }
}
