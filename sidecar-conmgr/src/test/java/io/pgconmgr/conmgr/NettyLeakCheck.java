package io.pgconmgr.conmgr;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer (or other tracked resource) while it ran.
 * Registered for every test class of this module by auto-detection; surefire sets
 * {@code io.netty.leakDetection.level=paranoid} so that every buffer is tracked, not one in 128.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

  private static final List<String> leaks = new ArrayList<>();
  /** Every detector Netty created, with the name of the resource type it tracks. */
  private static final Map<ResourceLeakDetector<?>, String> detectors = new ConcurrentHashMap<>();
  /** Stack frames of the test runner: they say nothing about a leak (Netty's own log line keeps them). */
  private static final Pattern RUNNER_FRAME = Pattern.compile(
      "^\\s+(org\\.junit\\.|org\\.apache\\.maven\\.surefire\\.|java\\.base/(jdk\\.internal|java\\.lang)\\.reflect\\.)");
  /** Whether buffers report to our detectors: see the static initializer. */
  private static final boolean buffersTracked;

  static {
    // JUnit instantiates auto-detected extensions when the engine starts, before it initialises any
    // test class, so no buffer class is initialised yet: AbstractByteBuf takes its one detector from
    // the factory in its static initializer.
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    ByteBuf probe = Unpooled.buffer(1);
    probe.release();
    buffersTracked = detectors.containsValue(ByteBuf.class.getName());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (!buffersTracked) {
      throw new ExtensionConfigurationException("Netty's buffer classes were initialised before " + getClass().getName()
          + " installed its leak detector factory: buffer leaks would go unrecorded");
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    surfacePendingLeaks();
    List<String> found;
    synchronized (leaks) {
      found = List.copyOf(leaks);
      leaks.clear();
    }
    if (!found.isEmpty()) {
      throw new AssertionError("Netty reported " + found.size() + " leak(s) while " + context.getDisplayName()
          + " ran (a leak found only late may come from the class run before it; level "
          + ResourceLeakDetector.getLevel() + "):\n"
          + found.stream().map(NettyLeakCheck::withoutRunnerFrames).collect(Collectors.joining("\n\n")));
    }
  }

  private static String withoutRunnerFrames(String leak) {
    return leak.lines().filter(line -> !RUNNER_FRAME.matcher(line).find()).collect(Collectors.joining("\n"));
  }

  /**
   * A detector learns of a leak only when the garbage collector has enqueued the leaked object's
   * phantom reference and the detector then tracks a new object, which polls its queue first.
   */
  private static void surfacePendingLeaks() throws InterruptedException {
    Object probe = new Object();
    for (int i = 0; i < 3; i++) {
      System.gc();
      // The reference handler thread enqueues cleared references after the collection.
      Thread.sleep(100);
      for (ResourceLeakDetector<?> detector : detectors.keySet()) {
        // Forcibly: polls the queue even below paranoid level, where track() polls one call in 128.
        @SuppressWarnings("unchecked")
        ResourceLeakTracker<Object> tracker = ((ResourceLeakDetector<Object>) detector).trackForcibly(probe);
        tracker.close(probe);
      }
    }
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
      RecordingDetector<T> detector = new RecordingDetector<>(resource, samplingInterval);
      detectors.put(detector, resource.getName());
      return detector;
    }

    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
        long maxActive) {
      return newResourceLeakDetector(resource, samplingInterval);
    }
  }

  /** Netty's detector, which also records each leak it reports (and logs it as usual). */
  private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {

    RecordingDetector(Class<T> resource, int samplingInterval) {
      super(resource, samplingInterval);
    }

    /** Report even when a test turned logging down: Netty would otherwise drop the leak unseen. */
    @Override
    protected boolean needReport() {
      return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected." + records);
      super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
          + " (no access records: leak detection level " + getLevel() + ")");
      super.reportUntracedLeak(resourceType);
    }

    private static void record(String leak) {
      synchronized (leaks) {
        leaks.add(leak);
      }
    }
  }
}
