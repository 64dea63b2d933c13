package io.pgconmgr.conmgr.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.conmgr.ops.ConmgrMetrics;
import io.pgconmgr.conmgr.ops.PgLevel;
import io.pgconmgr.protocol.netty.NettyTransport;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands proxied connections to the kernel relay agent (docs/kernel-relay.md): once the agent has put
 * a connection's two sockets in its sockhash, the kernel moves their bytes and conmgr only waits for
 * a hang-up. The agent is a separate, privileged process; conmgr stays unprivileged and only sends it
 * the two file descriptors over a unix socket.
 *
 * <p>One link to the agent per I/O thread: a socket's descriptor is sent on the thread that owns the
 * socket, so the socket cannot be closed, and its number taken by another, before it is sent. A
 * descriptor that cannot be sent at once (the agent not reading) ends that link instead of waiting
 * in a queue. Without the agent (not started yet, restarting) connections are relayed by conmgr,
 * and the link is tried again every second. When the agent goes away, the kernel goes on relaying
 * the connections it has; those whose answer was still pending are closed (see {@link AgentLink#lost}).
 */
public final class KernelRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KernelRelay.class);

  static final long RECONNECT_MILLIS = 1000;
  /** The agent's first byte on a link: its protocol version. Nothing is handed over before it arrives. */
  static final int PROTOCOL_VERSION = 1;
  /** The agent answers in microseconds; one that takes this long is stuck, and its link is closed. */
  static final long ANSWER_TIMEOUT_MILLIS = 2000;

  /** What became of a hand-over. */
  enum Outcome { KERNEL, CONMGR }

  private final String path;
  private final ConmgrMetrics metrics;
  private final List<AgentLink> links = new ArrayList<>();
  private volatile boolean closed;

  private KernelRelay(String path, ConmgrMetrics metrics) {
    this.path = path;
    this.metrics = metrics;
  }

  /**
   * Starts one link per I/O thread; returns at once (the agent may start later).
   *
   * @throws IOException when the I/O threads cannot pass file descriptors (not the epoll transport)
   */
  public static KernelRelay start(EventLoopGroup io, String path, ConmgrMetrics metrics) throws IOException {
    if (!NettyTransport.isEpoll(io)) {
      throw new IOException("kernel_relay_socket = '" + path + "' needs Netty's epoll transport (Linux): "
          + "it is not available here, so conmgr cannot pass sockets to the kernel relay agent");
    }
    KernelRelay relay = new KernelRelay(path, metrics);
    for (EventExecutor loop : io) {
      AgentLink link = relay.new AgentLink((EventLoop) loop);
      relay.links.add(link);
      loop.execute(link::connect);
    }
    metrics.kernelRelay(relay, r -> r.links.stream().filter(AgentLink::up).count(),
        r -> r.links.stream().mapToInt(l -> l.relayed).sum());
    return relay;
  }

  /**
   * Asks the agent to relay {@code client} and {@code instance} (on the calling thread's loop, neither
   * reading, no byte relayed yet). Succeeds with {@link Outcome#KERNEL} once they are in the sockhash,
   * or with {@link Outcome#CONMGR} when conmgr must relay them (no agent, either socket closed already,
   * or the agent refused them); fails when the link ended before the agent answered, as the pair may
   * or may not be in the sockhash then: the connection must be closed.
   */
  Future<Outcome> handOver(Channel client, Channel instance) {
    EventLoop loop = client.eventLoop();
    for (AgentLink link : links) {
      if (link.loop == loop) {
        return link.handOver(client, instance);
      }
    }
    throw new IllegalStateException("client on an event loop of another group");
  }

  @Override
  public void close() {
    closed = true;
    for (AgentLink link : links) {
      link.loop.execute(link::close);
    }
  }

  /** A hand-over sent, waiting for the agent's answer byte. */
  private record Pending(Channel client, Promise<Outcome> promise) {
  }

  /** The link to the agent of one I/O thread; every method runs on that thread. */
  private final class AgentLink {
    private final EventLoop loop;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** Client connections the kernel relays now: written on this thread, read by the metrics. */
    private volatile int relayed;
    private volatile Channel channel;
    /** Whether the last attempt failed: an outage is logged once, not every second. */
    private boolean down;
    private boolean everUp;
    private volatile boolean greeted;

    AgentLink(EventLoop loop) {
      this.loop = loop;
    }

    /** Connected, and greeted by a running agent. */
    boolean up() {
      Channel c = channel;
      return c != null && c.isActive() && greeted;
    }

    void connect() {
      if (closed) {
        return;
      }
      new Bootstrap().group(loop).channel(EpollDomainSocketChannel.class).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              answered(ctx, (ByteBuf) msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
              lost();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
              log.warn("kernel relay agent link at {}: {}", path, cause.toString());
              ctx.close();
            }
          })
          .connect(new DomainSocketAddress(path)).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess() && !closed) {
              greeted = false;
              channel = f.channel();
            } else if (f.isSuccess()) {
              f.channel().close();
            } else {
              if (!down) {
                down = true;
                log.warn("kernel relay agent not reachable at {} ({}): conmgr relays client connections itself until "
                    + "it is, trying every {} ms", path, f.cause(), RECONNECT_MILLIS);
              }
              loop.schedule(this::connect, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
            }
          });
    }

    Future<Outcome> handOver(Channel client, Channel instance) {
      Promise<Outcome> promise = loop.newPromise();
      Channel agent = channel;
      if (!up() || !agent.isWritable()
          || !(client instanceof UnixChannel c) || !(instance instanceof UnixChannel i)) {
        metrics.kernelRelayHandOver("unavailable");
        return promise.setSuccess(Outcome.CONMGR);
      }
      if (!client.isActive() || !instance.isActive()) {
        // Closed, though its channelInactive has not run yet: its descriptor number may belong to
        // another socket by now. Checked right before the (synchronous) send, on the owning thread.
        // Not counted: nothing was offered, and the connection is going away anyway.
        return promise.setSuccess(Outcome.CONMGR);
      }
      ChannelFuture first = agent.write(c.fd());
      ChannelFuture second = agent.write(i.fd());
      agent.flush();
      if (!first.isSuccess() || !second.isSuccess()) {
        // Not sent at once: queued, a descriptor number could be closed and reused before it goes out.
        // (On EAGAIN Netty fails the write with an Error about the message type: the agent is not reading.)
        Throwable cause = first.cause() != null ? first.cause() : second.cause();
        log.warn("kernel relay agent at {} did not take a connection's sockets at once ({}): closing the link", path,
            cause instanceof IOException ? cause.toString() : "agent not reading");
        down = true; // said here: the link's end is not news
        agent.close();
        metrics.kernelRelayHandOver("unavailable");
        // The agent got one descriptor at most (it needs two for a pair): nothing of this pair is in.
        return promise.setSuccess(Outcome.CONMGR);
      }
      pending.add(new Pending(client, promise));
      ScheduledFuture<?> timeout = loop.schedule(() -> {
        if (!promise.isDone() && agent.isActive()) {
          log.warn("kernel relay agent at {} did not answer within {} ms: closing the link; conmgr relays client "
              + "connections itself until the agent greets a new one", path, ANSWER_TIMEOUT_MILLIS);
          down = true; // said here: the link's end is not news
          agent.close();
        }
      }, ANSWER_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      promise.addListener(f -> timeout.cancel(false));
      return promise;
    }

    /** The agent's answers, one byte per hand-over, in order: 0 or the errno that refused it. */
    private void answered(ChannelHandlerContext ctx, ByteBuf answers) {
      try {
        if (!greeted && answers.isReadable()) {
          int version = answers.readUnsignedByte();
          if (version != PROTOCOL_VERSION) {
            if (!down) {
              log.warn("kernel relay agent at {} speaks protocol {}, this conmgr {}: conmgr relays client connections "
                  + "itself, trying every {} ms", path, version, PROTOCOL_VERSION, RECONNECT_MILLIS);
              down = true;
            }
            ctx.close();
            return;
          }
          greeted = true;
          if (down || !everUp) {
            log.info(PgLevel.LOG, "kernel relay agent connected at {}: the kernel relays new client connections", path);
          }
          down = false;
          everUp = true;
        }
        while (answers.isReadable()) {
          int errno = answers.readUnsignedByte();
          Pending p = pending.poll();
          if (p == null) {
            log.warn("kernel relay agent at {} answered a hand-over that was not asked: closing the link", path);
            ctx.close();
            return;
          }
          if (errno == 0) {
            metrics.kernelRelayHandOver("kernel");
            relayed++;
            p.client().closeFuture().addListener(f -> relayed--);
            p.promise().setSuccess(Outcome.KERNEL);
          } else {
            // E.g. the client hung up meanwhile (no longer established), or the sockhash is full.
            log.debug("kernel relay agent refused client {} (errno {}): conmgr relays it", p.client().remoteAddress(),
                errno);
            metrics.kernelRelayHandOver("refused");
            p.promise().setSuccess(Outcome.CONMGR);
          }
        }
      } finally {
        answers.release();
      }
    }

    /**
     * The link ended. The pairs the agent put in its sockhash stay there: each socket holds the verdict
     * program, which holds the sockhash, so the kernel goes on relaying them. A pair still waiting for
     * its answer may or may not be in (the agent may even go on to put it in after conmgr closed the
     * link): relayed by conmgr and by the kernel at once, its bytes could overtake each other, so its
     * client is closed, as when an instance fails during a connect.
     */
    private void lost() {
      channel = null;
      boolean wasGreeted = greeted;
      greeted = false;
      IOException unanswered = new IOException("kernel relay agent link at " + path + " ended before it answered");
      for (Pending p; (p = pending.poll()) != null; ) {
        metrics.kernelRelayHandOver("failed");
        p.promise().tryFailure(unanswered);
      }
      if (closed) {
        return;
      }
      metrics.kernelRelayLost();
      if (wasGreeted && !down) {
        log.warn("kernel relay agent at {} went away: the kernel goes on relaying the {} client connection(s) it has; "
            + "conmgr relays new ones itself until the agent is back", path, relayed);
        down = true;
      } else if (!down) {
        // E.g. an agent that has too many conmgrs already: it accepts and closes at once. Logged once per outage.
        log.warn("kernel relay agent at {} closed the link before greeting it: conmgr relays client connections "
            + "itself, trying every {} ms", path, RECONNECT_MILLIS);
        down = true;
      }
      loop.schedule(this::connect, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
    }

    void close() {
      Channel c = channel;
      if (c != null) {
        c.close();
      }
    }
  }
}
