package io.pgconmgr.watchdog;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Frame;
import io.pgconmgr.protocol.heartbeat.FrameDecoder;
import io.pgconmgr.protocol.heartbeat.Goodbye;
import io.pgconmgr.protocol.heartbeat.Heartbeat;
import io.pgconmgr.protocol.heartbeat.HeartbeatProtocol;
import io.pgconmgr.protocol.heartbeat.Hello;
import java.net.InetSocketAddress;
import javax.net.ssl.SSLException;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One conmgr's heartbeat session: waits for its Hello, answers with the attributes, then sends
 * heartbeats at the peer's interval and declares the peer lost after the peer's timeout of
 * silence, on Goodbye, or when the connection ends.
 */
final class HeartbeatSessionHandler extends SimpleChannelInboundHandler<Frame> {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatSessionHandler.class);
  /** A connection that has not said Hello by then is closed (conmgr's connect timeout default). */
  static final long HELLO_TIMEOUT_MS = 10_000;
  private static final long GRID_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final SessionRegistry registry;
  private final WatchdogMetrics metrics;
  private final Supplier<Attributes> attributes;
  private ChannelHandlerContext ctx;
  private boolean admitted;
  /** A Goodbye refusing the session is on its way: whatever the peer still sends is ignored. */
  private boolean refused;
  private PeerSession peer;
  /** When the peer's last frame (its Hello, then each heartbeat) arrived: the gap metric. */
  private long lastFrameNanos;
  private ScheduledFuture<?> timer;
  private long sequence;

  HeartbeatSessionHandler(SessionRegistry registry, WatchdogMetrics metrics,
      Supplier<Attributes> attributes) {
    this.registry = registry;
    this.metrics = metrics;
    this.attributes = attributes;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (!registry.admit()) {
      metrics.refusedSessions("limit").increment();
      log.warn("refused heartbeat connection from {}: max_heartbeat_connections ({}) reached",
          remote(), registry.limit());
      refuse("too many heartbeat sessions: max_heartbeat_connections is " + registry.limit());
      return;
    }
    admitted = true;
    timer = ctx.executor().schedule(() -> {
      metrics.refusedSessions("hello_timeout").increment();
      log.warn("closed heartbeat connection from {}: no Hello within {} ms", remote(),
          HELLO_TIMEOUT_MS);
      ctx.close();
    }, HELLO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
    if (refused) {
      return;
    }
    if (frame instanceof Heartbeat && peer != null) {
      long now = System.nanoTime();
      metrics.heartbeatGap.record(now - lastFrameNanos, TimeUnit.NANOSECONDS);
      lastFrameNanos = now;
      metrics.heartbeatsReceived.increment();
    } else if (frame instanceof Hello hello && peer == null) {
      hello(hello);
    } else if (frame instanceof Goodbye goodbye && peer != null) {
      log.info("peer {} ({}) said goodbye: {}", peer.endpoint(), peer.peerName(),
          goodbye.reason());
      registry.ended(this, SessionRegistry.LossReason.GOODBYE, Instant.now());
      ctx.close();
    } else {
      metrics.malformedFrames.increment();
      log.warn("closed heartbeat connection from {}: unexpected {} frame", remote(),
          frame.getClass().getSimpleName());
      ctx.close();
    }
  }

  private void hello(Hello hello) {
    timer.cancel(false);
    if (hello.version() != HeartbeatProtocol.VERSION) {
      metrics.refusedSessions("version").increment();
      log.warn("refused heartbeat session from {}: protocol version {} (this watchdog speaks {})",
          remote(), hello.version(), HeartbeatProtocol.VERSION);
      refuse("unsupported protocol version " + hello.version() + "; this watchdog speaks "
          + HeartbeatProtocol.VERSION);
      return;
    }
    if (hello.heartbeatIntervalMs() < 1 || hello.heartbeatTimeoutMs() < 1) {
      metrics.refusedSessions("timing").increment();
      log.warn("refused heartbeat session from {}: interval {} ms, timeout {} ms", remote(),
          hello.heartbeatIntervalMs(), hello.heartbeatTimeoutMs());
      refuse("heartbeat interval and timeout must be at least 1 ms");
      return;
    }
    InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
    peer = new PeerSession(remote.getAddress(), remote.getPort(), hello.heartbeatIntervalMs(),
        hello.heartbeatTimeoutMs(), hello.peerName() == null ? "" : hello.peerName(),
        Instant.now());
    if (hello.heartbeatTimeoutMs() <= hello.heartbeatIntervalMs()) {
      // Heartbeats cannot arrive more often than the timeout allows: as in the seed, such a link
      // always ends down. Decide it at the timeout instead of leaving it to timer jitter.
      ctx.executor().schedule(this::lost, hello.heartbeatTimeoutMs(), TimeUnit.MILLISECONDS);
    } else {
      // Silence longer than the peer's own timeout means the link is down.
      ctx.pipeline().addBefore(ctx.name(), "idle",
          new IdleStateHandler(hello.heartbeatTimeoutMs(), 0, 0, TimeUnit.MILLISECONDS));
    }
    lastFrameNanos = System.nanoTime();
    registry.established(this, peer);
    log.info("heartbeat session from {} ({}): interval {} ms, timeout {} ms", peer.endpoint(),
        peer.peerName(), peer.heartbeatIntervalMs(), peer.heartbeatTimeoutMs());
    ctx.writeAndFlush(attributes.get());
    // Heartbeats start on a 100 ms grid: sessions with the same interval on one event loop
    // then share a wake-up instead of each costing its own (thousands of sessions per loop).
    long interval = TimeUnit.MILLISECONDS.toNanos(hello.heartbeatIntervalMs());
    long grid = Math.min(interval, GRID_NANOS);
    long first = interval + grid - (System.nanoTime() + interval) % grid;
    timer = ctx.executor().scheduleAtFixedRate(this::sendHeartbeat, first, interval,
        TimeUnit.NANOSECONDS);
  }

  private void sendHeartbeat() {
    // A peer that does not read must not make us buffer heartbeats without end.
    if (ctx.channel().isWritable()) {
      ctx.writeAndFlush(new Heartbeat(++sequence, System.currentTimeMillis()));
      metrics.heartbeatsSent.increment();
    }
  }

  /** Sends changed attributes to this peer (any thread). */
  void push(Attributes a) {
    ctx.writeAndFlush(a);
  }

  /** Ends the session from our side (any thread): the watchdog is stopping. */
  ChannelFuture goodbye(String reason) {
    return ctx.writeAndFlush(new Goodbye(reason)).addListener(ChannelFutureListener.CLOSE);
  }

  /** The peer's timeout passed without a heartbeat: the peer is lost (runs on the event loop). */
  private void lost() {
    if (!ctx.channel().isActive()) {
      return;
    }
    log.warn("peer {} ({}) lost: no heartbeat for {} ms", peer.endpoint(), peer.peerName(),
        peer.heartbeatTimeoutMs());
    registry.ended(this, SessionRegistry.LossReason.TIMEOUT, Instant.now());
    ctx.writeAndFlush(new Goodbye("heartbeat timeout")).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && peer != null) {
      lost();
    } else if (evt instanceof FrameDecoder.Rejected) {
      metrics.malformedFrames.increment(); // the decoder has logged it and closes the channel
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
      metrics.refusedSessions("tls").increment();
      log.warn("TLS handshake with {} failed: {}", remote(), cause.getCause().getMessage());
    } else if (cause instanceof DecoderException) {
      metrics.malformedFrames.increment();
      log.warn("closed heartbeat connection from {}: {}", remote(),
          cause.getCause() != null ? cause.getCause().toString() : cause.toString());
    } else {
      log.info("heartbeat connection from {} failed: {}", remote(), cause.toString());
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
    }
    if (peer != null) {
      // No-op after a goodbye or timeout; otherwise the conmgr's process or connection died.
      if (registry.hasSession(this) && !registry.shuttingDown()) {
        log.warn("peer {} ({}) lost: connection closed without goodbye", peer.endpoint(),
            peer.peerName());
      }
      registry.ended(this, SessionRegistry.LossReason.CLOSED, Instant.now());
    }
    if (admitted) {
      registry.release();
    }
    ctx.fireChannelInactive();
  }

  private void refuse(String reason) {
    refused = true;
    ctx.writeAndFlush(new Goodbye(reason)).addListener(ChannelFutureListener.CLOSE);
  }

  private String remote() {
    return String.valueOf(ctx.channel().remoteAddress());
  }
}
