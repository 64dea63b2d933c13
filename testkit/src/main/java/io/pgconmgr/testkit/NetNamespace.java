package io.pgconmgr.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;

/**
 * A test host: a network namespace joined to the root namespace by a veth pair, with its own
 * address in 198.18.0.0/15, whose link can be cut silently (iptables DROP, no RST). Needs root.
 */
public final class NetNamespace implements AutoCloseable {

    /** Prefix of every namespace and veth name this class creates, so leftovers are recognisable. */
    public static final String PREFIX = "pgcm";
    private static final int BLOCKS = 1 << 15; // /30 blocks in 198.18.0.0/15
    private static final Path OWNERS = Path.of("/tmp/pgconmgr-netns");
    private static volatile boolean staleRemoved;

    private final int block;
    private final String name;
    private final String rootVeth;
    private final String nsVeth;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private volatile boolean cut;
    private volatile boolean closed;

    private NetNamespace(int block) {
        this.block = block;
        this.name = PREFIX + block;
        this.rootVeth = name + "r";
        this.nsVeth = name + "n";
    }

    /**
     * Skips the calling test unless namespaces can be made here: needs root, ip (iproute2) and iptables.
     */
    public static void assumeAvailable() {
        String reason = unavailableReason();
        Assumptions.assumeTrue(reason == null, reason);
    }

    /** Why namespaces cannot be used here, or null when they can. */
    public static String unavailableReason() {
        if (!Cmd.isRoot()) {
            return "needs root and ip/iptables: network namespaces and veth pairs need root (running as "
                    + System.getProperty("user.name") + ")";
        }
        if (!Cmd.onPath("ip")) {
            return "needs root and ip/iptables: install iproute2";
        }
        if (!Cmd.onPath("iptables")) {
            return "needs root and ip/iptables: install iptables";
        }
        return null;
    }

    /** Creates a namespace with a fresh, collision-free name and /30 (other JVMs may be creating theirs). */
    public static NetNamespace create() {
        String reason = unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        removeStale();
        int start = ThreadLocalRandom.current().nextInt(1, BLOCKS);
        for (int i = 0; i < 200; i++) {
            int block = 1 + (start + i * 7919) % (BLOCKS - 1);
            // "ip netns add" fails when the name exists: it is the atomic claim on this block.
            if (!Cmd.exec(List.of("ip", "netns", "add", PREFIX + block), Duration.ofSeconds(30)).ok()) {
                continue;
            }
            NetNamespace ns = new NetNamespace(block);
            Leftovers.register(ns, ns::close);
            try {
                ns.writeOwner();
                if (ns.setUp()) {
                    return ns;
                }
            } catch (RuntimeException e) {
                ns.close();
                throw e;
            }
            ns.close(); // a leftover veth holds this block's names; try another block
        }
        throw new IllegalStateException("no free " + PREFIX + "* namespace/veth block found in 200 attempts");
    }

    /** Namespace name, for `ip netns exec`. */
    public String name() {
        return name;
    }

    /** The test host's own address (inside the namespace). */
    public String hostAddress() {
        return address(2);
    }

    /** The root namespace's end of the veth pair, as seen from inside the namespace. */
    public String peerAddress() {
        return address(1);
    }

    /** Name of the veth end inside the namespace. */
    public String interfaceName() {
        return nsVeth;
    }

    /** Starts a process inside the namespace; it is killed by {@link #close()}. Output is inherited. */
    public Process exec(List<String> command) {
        return exec(command, ProcessBuilder.Redirect.INHERIT);
    }

    /** Starts a process inside the namespace with its stdout/stderr sent to {@code output}. */
    public Process exec(List<String> command, ProcessBuilder.Redirect output) {
        try {
            Process p = new ProcessBuilder(wrap(command)).redirectErrorStream(true).redirectOutput(output).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command + " in " + name + ": " + e.getMessage(), e);
        }
    }

    /** Runs a short command inside the namespace and waits for it. */
    public Cmd.Result run(List<String> command) {
        return Cmd.exec(wrap(command), Duration.ofSeconds(60));
    }

    /** Prefix that runs a command inside this namespace. */
    public List<String> wrap(List<String> command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(command);
        return cmd;
    }

    /**
     * Cuts the link silently: every packet on the namespace's veth is dropped in both directions, no
     * RST, no ICMP. Traffic on the namespace's own loopback keeps flowing.
     */
    public synchronized void cut() {
        if (cut) {
            return;
        }
        iptables("-A", "INPUT", "-i", nsVeth, "-j", "DROP");
        iptables("-A", "OUTPUT", "-o", nsVeth, "-j", "DROP");
        cut = true;
    }

    /** Undoes {@link #cut()}; established TCP connections resume if their peers did not give up. */
    public synchronized void restore() {
        if (!cut) {
            return;
        }
        iptables("-D", "INPUT", "-i", nsVeth, "-j", "DROP");
        iptables("-D", "OUTPUT", "-o", nsVeth, "-j", "DROP");
        cut = false;
    }

    public boolean isCut() {
        return cut;
    }

    /** Whether the namespace still exists (false after close). */
    public boolean exists() {
        return Files.exists(Path.of("/run/netns", name));
    }

    /** Kills processes started in the namespace, then deletes it and its veth pair. Never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        // Anything else still living in the namespace (e.g. a server started through wrap()) keeps it alive.
        Cmd.Result pids = Cmd.exec(List.of("ip", "netns", "pids", name), Duration.ofSeconds(10));
        if (pids.ok() && !pids.output().isBlank()) {
            List<String> kill = new ArrayList<>(List.of("kill", "-KILL"));
            kill.addAll(List.of(pids.output().trim().split("\\s+")));
            Cmd.exec(kill, Duration.ofSeconds(10));
        }
        Cmd.exec(List.of("ip", "link", "del", rootVeth), Duration.ofSeconds(30));
        Cmd.exec(List.of("ip", "netns", "del", name), Duration.ofSeconds(30));
        try {
            Files.deleteIfExists(OWNERS.resolve(name));
        } catch (IOException ignored) {
            // stale owner files are harmless: removeStale skips namespaces that no longer exist
        }
        Leftovers.done(this);
    }

    @Override
    public String toString() {
        return name + "(" + hostAddress() + ")";
    }

    private boolean setUp() {
        Duration t = Duration.ofSeconds(30);
        if (!Cmd.exec(List.of("ip", "link", "add", rootVeth, "type", "veth", "peer", "name", nsVeth,
                "netns", name), t).ok()) {
            return false;
        }
        Cmd.run(List.of("ip", "addr", "add", peerAddress() + "/30", "dev", rootVeth));
        Cmd.run(List.of("ip", "link", "set", rootVeth, "up"));
        Cmd.run(List.of("ip", "-n", name, "addr", "add", hostAddress() + "/30", "dev", nsVeth));
        Cmd.run(List.of("ip", "-n", name, "link", "set", nsVeth, "up"));
        Cmd.run(List.of("ip", "-n", name, "link", "set", "lo", "up"));
        // Only the benchmarking range is routed: a test host can never reach anything real.
        Cmd.run(List.of("ip", "-n", name, "route", "add", "198.18.0.0/15", "via", peerAddress()));
        return true;
    }

    private void iptables(String... args) {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "10"));
        cmd.addAll(List.of(args));
        Cmd.exec(wrap(cmd), Duration.ofSeconds(30)).orThrow();
    }

    private String address(int host) {
        int offset = block * 4 + host; // 198.18.0.0 + offset, offset < 2^17
        return "198." + (18 + (offset >> 16)) + "." + ((offset >> 8) & 0xff) + "." + (offset & 0xff);
    }

    private void writeOwner() {
        try {
            Files.createDirectories(OWNERS);
            Files.writeString(OWNERS.resolve(name), String.valueOf(ProcessHandle.current().pid()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
    }

    /** Deletes namespaces of ours whose creating JVM died without cleaning up (once per JVM). */
    public static synchronized void removeStale() {
        if (staleRemoved) {
            return;
        }
        staleRemoved = true;
        try (var owners = Files.list(OWNERS)) {
            for (Path f : owners.toList()) {
                long pid = Long.parseLong(Files.readString(f).trim());
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                String ns = f.getFileName().toString();
                Cmd.exec(List.of("ip", "link", "del", ns + "r"), Duration.ofSeconds(30));
                Cmd.exec(List.of("ip", "netns", "del", ns), Duration.ofSeconds(30));
                Files.deleteIfExists(f);
            }
        } catch (IOException | RuntimeException e) {
            // nothing to clean, or an owner file being written right now
        }
    }
}
