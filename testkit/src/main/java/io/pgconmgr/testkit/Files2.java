package io.pgconmgr.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Best-effort recursive delete used by every cleanup path (a failed cleanup must not hide a test failure). */
final class Files2 {

    private Files2() {
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // left for the OS tmp cleaner
                }
            });
        } catch (IOException ignored) {
            // root vanished meanwhile
        }
    }
}
