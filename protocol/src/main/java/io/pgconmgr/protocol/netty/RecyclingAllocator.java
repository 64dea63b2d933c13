package io.pgconmgr.protocol.netty;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Buffers for sockets whose peers we trust to send whole messages (the relay once a client is
 * routed, conmgr's heartbeat links): one size, recycled last-in first-out by each thread. In the
 * steady state a read fills the buffer that the previous write has just released, still in the CPU
 * cache, and each costs a push or a pop: no pool lock or queue, no leak-tracking sample. Netty's
 * default (adaptive) allocator spent about a quarter of the relay's user time there, and allocated a
 * fresh chunk for many a heartbeat frame (async-profiler, docs/BENCHMARKS.md).
 *
 * <p>Every buffer is 16 KiB however little it holds, so a peer that sends a few bytes and waits holds
 * 16 KiB: hence not for a socket before its peer is known (a client's startup packet, a watchdog's
 * port), and queued buffers are counted at their capacity on the relay (ProxyServer.RELAY_SIZE).
 *
 * <p>The memory is plain JDK direct buffers, so a buffer that a bug never releases is still freed by
 * the garbage collector. The leak detector therefore tracks them at its ADVANCED (sampled, with
 * access records) and PARANOID (every buffer; sidecar-conmgr's tests) levels, not at its default
 * SIMPLE sampling. A thread keeps at most {@link #MAX_FREE} free buffers; buffers beyond that, and
 * those taken or released on threads that are not Netty's, are left to the garbage collector.
 * Requests larger than {@link #BUFFER_SIZE} go to Netty's default allocator.
 */
public final class RecyclingAllocator extends AbstractByteBufAllocator {

  /** The size of every buffer: what one read takes from a socket (PostgreSQL sends 8 KiB at a time). */
  public static final int BUFFER_SIZE = 16 * 1024;

  /** Free buffers kept per I/O thread (1 MiB): enough for the bursts in which writes lag reads. */
  static final int MAX_FREE = 64;

  public static final RecyclingAllocator INSTANCE = new RecyclingAllocator();

  /** The buffers give the epoll transport their memory address; without sun.misc.Unsafe, Netty's allocator does it all. */
  private static final boolean HAS_UNSAFE = PlatformDependent.hasUnsafe();

  private static final FastThreadLocal<ArrayDeque<RecycledBuf>> FREE = new FastThreadLocal<>() {
    @Override
    protected ArrayDeque<RecycledBuf> initialValue() {
      return new ArrayDeque<>(MAX_FREE);
    }
  };

  private RecyclingAllocator() {
    super(true);
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    if (!HAS_UNSAFE || initialCapacity > BUFFER_SIZE || maxCapacity < BUFFER_SIZE) {
      return ByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }
    RecycledBuf buf = onNettyThread() ? FREE.get().pollLast() : null;
    if (buf == null) {
      buf = new RecycledBuf(this);
    }
    buf.reuse(maxCapacity);
    return ResourceLeakDetector.getLevel().compareTo(ResourceLeakDetector.Level.ADVANCED) >= 0
        ? toLeakAwareBuffer(buf)
        : buf;
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return ByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return true;
  }

  /** Free buffers the calling thread holds. */
  static int freeOnThisThread() {
    return FREE.isSet() ? FREE.get().size() : 0;
  }

  /**
   * Netty's threads (its I/O threads, and its other executors' too) are FastThreadLocalThreads; other
   * threads neither take nor keep free buffers.
   */
  private static boolean onNettyThread() {
    return Thread.currentThread() instanceof FastThreadLocalThread;
  }

  private static void recycle(RecycledBuf buf) {
    if (onNettyThread()) {
      ArrayDeque<RecycledBuf> free = FREE.get();
      if (free.size() < MAX_FREE) {
        free.addLast(buf);
      }
    }
  }

  /**
   * A buffer over memory the JDK owns (never freed by hand), put back on its thread's free list when
   * its last reference is released, unless it was resized: Netty's own memory then replaced the
   * original, and the normal release frees it.
   */
  private static final class RecycledBuf extends UnpooledUnsafeDirectByteBuf {
    private boolean resized;

    RecycledBuf(RecyclingAllocator alloc) {
      super(alloc, ByteBuffer.allocateDirect(BUFFER_SIZE), Integer.MAX_VALUE);
    }

    void reuse(int maxCapacity) {
      resetRefCnt();
      maxCapacity(maxCapacity);
      setIndex(0, 0);
      markReaderIndex();
      markWriterIndex();
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
      int before = capacity();
      super.capacity(newCapacity);
      resized |= newCapacity != before;
      return this;
    }

    @Override
    protected void deallocate() {
      if (resized) {
        super.deallocate();
      } else {
        recycle(this);
      }
    }
  }
}
