package io.pgconmgr.testkit;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * Base backup of a running server without pg_basebackup (zonky lacks it): files copied between
 * pg_backup_start() and pg_backup_stop(), WAL left out because the standby streams it.
 */
final class OnlineCopy {

    /** Directories whose contents a base backup omits (the server recreates or does not need them). */
    private static final Set<String> EMPTY_DIRS = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem",
            "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans");
    private static final Set<String> SKIPPED_FILES = Set.of("postmaster.pid", "postmaster.opts", "postgresql.log",
            "standby.signal", "recovery.signal", "backup_label", PgInstance.INSTANCE_CONF);

    private OnlineCopy() {
    }

    static void copy(PgInstance source, Path target) {
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            st.execute("select pg_backup_start('pgconmgr-testkit', true)");
            String label;
            try {
                copyTree(source.dataDir(), target);
            } finally {
                try (ResultSet rs = st.executeQuery("select labelfile from pg_backup_stop(false)")) {
                    rs.next();
                    label = rs.getString(1);
                }
            }
            Files.writeString(target.resolve("backup_label"), label);
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("online copy of " + source.name() + " into " + target + " failed: " + e, e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path dest = to.resolve(from.relativize(dir).toString());
                Files.createDirectories(dest);
                Files.setPosixFilePermissions(dest, Files.getPosixFilePermissions(dir));
                boolean skipContents = !dir.equals(from) && EMPTY_DIRS.contains(from.relativize(dir).toString());
                if (skipContents) {
                    if (dir.endsWith("pg_wal")) {
                        Files.createDirectories(dest.resolve("archive_status"));
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (SKIPPED_FILES.contains(file.getFileName().toString()) && file.getParent().equals(from)) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                            LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException vanished) {
                    // dropped by the running server during the copy; WAL replay recreates what matters
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
    }
}
