package io.pgconmgr.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Frame;
import io.pgconmgr.protocol.heartbeat.Goodbye;
import io.pgconmgr.protocol.heartbeat.Heartbeat;
import io.pgconmgr.protocol.heartbeat.HeartbeatCodec;
import io.pgconmgr.protocol.heartbeat.HeartbeatProtocol;
import io.pgconmgr.protocol.heartbeat.Hello;
import io.pgconmgr.protocol.netty.NettyTransport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many heartbeat peers against one watchdog, each from its own loopback address (127.1.x.y, as if each
 * were a conmgr of its own pod): Hello, then a heartbeat every interval; records the gaps between the
 * watchdog's heartbeats to each peer (jitter) and every session the watchdog ends.
 */
final class HeartbeatLoad implements AutoCloseable {

    private final EventLoopGroup group = NettyTransport.newEventLoopGroup(2, "bench-heartbeat");
    private final List<Channel> channels = new ArrayList<>();
    private final AtomicInteger established = new AtomicInteger();
    private final AtomicInteger ended = new AtomicInteger();
    private final AtomicInteger connectFailures = new AtomicInteger();
    private final int intervalMs;
    private final int timeoutMs;
    /** Histogram of gaps between received heartbeats, in ms (index capped at the last bucket). */
    private final long[] gaps = new long[60_001];
    private volatile boolean recording;
    private volatile String lastEndReason = "";

    HeartbeatLoad(int intervalMs, int timeoutMs) {
        this.intervalMs = intervalMs;
        this.timeoutMs = timeoutMs;
    }

    /** The i-th peer's source address: 127.1.0.1 onwards, 250 per third octet. */
    static String sourceAddress(int i) {
        return "127.1." + (i / 250) + "." + (i % 250 + 1);
    }

    /** Opens {@code n} sessions, {@code perSecond} new ones a second, and waits until the watchdog answered each. */
    void open(String host, int port, int n, int perSecond, Duration timeout) {
        Bootstrap b = new Bootstrap().group(group).channel(NettyTransport.socketChannelType(group))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        HeartbeatCodec.addTo(ch.pipeline()).addLast("bench-peer", new Peer());
                    }
                });
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ChannelFuture f = b.connect(new InetSocketAddress(host, port), new InetSocketAddress(sourceAddress(i), 0));
            int index = i;
            f.addListener(done -> {
                if (done.isSuccess()) {
                    Channel ch = f.channel();
                    ch.writeAndFlush(new Hello(HeartbeatProtocol.VERSION, intervalMs, timeoutMs, "bench-" + index));
                } else {
                    connectFailures.incrementAndGet();
                }
            });
            synchronized (channels) {
                channels.add(f.channel());
            }
            long due = t0 + (long) ((i + 1) * 1e9 / perSecond);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Net.sleep(Duration.ofNanos(wait));
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (established.get() + connectFailures.get() + ended.get() < n && System.nanoTime() < deadline) {
            Net.sleep(Duration.ofMillis(100));
        }
    }

    int established() {
        return established.get();
    }

    int ended() {
        return ended.get();
    }

    int connectFailures() {
        return connectFailures.get();
    }

    String lastEndReason() {
        return lastEndReason;
    }

    /** Starts (or restarts) counting heartbeat gaps; earlier gaps are dropped. */
    void recordGaps() {
        synchronized (gaps) {
            java.util.Arrays.fill(gaps, 0);
        }
        recording = true;
    }

    /** The gap (ms) below which the fraction {@code q} of recorded gaps falls. */
    long gapPercentile(double q) {
        synchronized (gaps) {
            long total = 0;
            for (long g : gaps) {
                total += g;
            }
            long seen = 0;
            for (int ms = 0; ms < gaps.length; ms++) {
                seen += gaps[ms];
                if (total > 0 && seen >= q * total) {
                    return ms;
                }
            }
            return -1;
        }
    }

    long gapCount() {
        synchronized (gaps) {
            long total = 0;
            for (long g : gaps) {
                total += g;
            }
            return total;
        }
    }

    private final class Peer extends SimpleChannelInboundHandler<Frame> {
        private long lastHeartbeatNanos;
        private long sequence;
        private boolean up;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            if (frame instanceof Attributes && !up) {
                up = true;
                established.incrementAndGet();
                // Spread our own heartbeats over the interval, as independent conmgrs would be.
                long first = ThreadLocalRandom.current().nextLong(intervalMs);
                ctx.executor().scheduleAtFixedRate(() -> {
                    if (ctx.channel().isActive()) {
                        ctx.writeAndFlush(new Heartbeat(++sequence, System.currentTimeMillis()));
                    }
                }, first, intervalMs, TimeUnit.MILLISECONDS);
            } else if (frame instanceof Heartbeat) {
                long now = System.nanoTime();
                if (lastHeartbeatNanos != 0 && recording) {
                    int ms = (int) Math.min(gaps.length - 1, (now - lastHeartbeatNanos) / 1_000_000);
                    synchronized (gaps) {
                        gaps[ms]++;
                    }
                }
                lastHeartbeatNanos = now;
            } else if (frame instanceof Goodbye g) {
                lastEndReason = g.reason();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (up) {
                ended.incrementAndGet();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            lastEndReason = String.valueOf(cause.getMessage());
            ctx.close();
        }
    }

    @Override
    public void close() {
        synchronized (channels) {
            channels.forEach(Channel::close);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
