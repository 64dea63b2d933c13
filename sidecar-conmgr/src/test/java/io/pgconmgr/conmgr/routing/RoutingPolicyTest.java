package io.pgconmgr.conmgr.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoutingPolicyTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  static InstanceState up(int n, boolean inRecovery, boolean readOnly, long timeline) {
    return new InstanceState(new BackendInstance(n, "h" + n, null, 5432, 27545), LinkState.UP,
        new Attributes(true, inRecovery, readOnly, timeline, 42, inRecovery ? 0 : -1, 170006), null, T0, "up");
  }

  static InstanceState down(int n) {
    return new InstanceState(new BackendInstance(n, "h" + n, null, 5432, 27545), LinkState.DOWN,
        new Attributes(true, false, false, 1, 42, -1, 170006), null, T0, "heartbeat timeout");
  }

  static List<Integer> numbers(List<InstanceState> l) {
    return l.stream().map(InstanceState::number).toList();
  }

  private final InstanceState primary = up(0, false, false, 2);
  private final InstanceState standby1 = up(1, true, false, 2);
  private final InstanceState standby2 = up(2, true, false, 2);
  private final InstanceState readOnlyPrimary = up(3, false, true, 2);
  private final List<InstanceState> set = List.of(primary, standby1, standby2);

  @Test
  void everyTargetMatchesLibpqSemantics() {
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.ANY, set))).containsExactly(0, 1, 2);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.READ_WRITE, set))).containsExactly(0);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PRIMARY, set))).containsExactly(0);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.READ_ONLY, set))).containsExactly(1, 2);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.STANDBY, set))).containsExactly(1, 2);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PREFER_STANDBY, set))).containsExactly(1, 2);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PREFER_PRIMARY, set))).containsExactly(0);
  }

  @Test
  void pgjdbcTargetServerTypeNamesRouteLikeTheirLibpqCounterparts() {
    Map<String, TargetSessionAttrs> jdbc = Map.of("primary", TargetSessionAttrs.PRIMARY,
        "master", TargetSessionAttrs.PRIMARY, "secondary", TargetSessionAttrs.STANDBY,
        "slave", TargetSessionAttrs.STANDBY, "preferSecondary", TargetSessionAttrs.PREFER_STANDBY,
        "preferSlave", TargetSessionAttrs.PREFER_STANDBY, "preferPrimary", TargetSessionAttrs.PREFER_PRIMARY,
        "any", TargetSessionAttrs.ANY);
    List<List<InstanceState>> sets = List.of(set, List.of(primary), List.of(standby1),
        List.of(readOnlyPrimary, standby2));
    jdbc.forEach((name, libpq) -> {
      TargetSessionAttrs parsed = TargetSessionAttrs.parse(name).orElseThrow(() -> new AssertionError(name));
      assertThat(parsed).as(name).isEqualTo(libpq);
      for (List<InstanceState> s : sets) {
        assertThat(numbers(RoutingPolicy.candidates(parsed, s))).as(name)
            .isEqualTo(numbers(RoutingPolicy.candidates(libpq, s)));
      }
    });
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.parse("secondary").orElseThrow(), set)))
        .containsExactly(1, 2);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.parse("preferSecondary").orElseThrow(),
        List.of(primary)))).containsExactly(0);
    assertThat(TargetSessionAttrs.parse("read-mostly")).isEmpty();
  }

  @Test
  void readOnlyPrimaryServesReadOnlyAndPrimaryButNotReadWrite() {
    List<InstanceState> s = List.of(readOnlyPrimary);
    assertThat(RoutingPolicy.candidates(TargetSessionAttrs.READ_WRITE, s)).isEmpty();
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.READ_ONLY, s))).containsExactly(3);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PRIMARY, s))).containsExactly(3);
  }

  @Test
  void preferTargetsFallBackToAnyInstance() {
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PREFER_STANDBY, List.of(primary)))).containsExactly(0);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.PREFER_PRIMARY, List.of(standby1)))).containsExactly(1);
    assertThat(RoutingPolicy.candidates(TargetSessionAttrs.STANDBY, List.of(primary))).isEmpty();
  }

  @Test
  void instancesWithLinkDownOrUnreachablePostgresAreNeverCandidates() {
    InstanceState unreachable = new InstanceState(standby1.instance(), LinkState.UP, Attributes.UNREACHABLE, null, T0, "up");
    List<InstanceState> s = List.of(down(0), unreachable);
    for (TargetSessionAttrs t : TargetSessionAttrs.values()) {
      assertThat(RoutingPolicy.candidates(t, s)).as(t.confName()).isEmpty();
    }
    assertThat(RoutingPolicy.explain(TargetSessionAttrs.READ_WRITE, s))
        .contains("instance 0 (h0:5432): heartbeat link down (heartbeat timeout)")
        .contains("PostgreSQL not answering");
  }

  @Test
  void splitBrainNeverRoutesToThePrimaryOnTheOlderTimeline() {
    InstanceState oldPrimary = up(0, false, false, 1);
    InstanceState promoted = up(1, false, false, 2);
    List<InstanceState> s = List.of(oldPrimary, promoted);
    RoutingPolicy.PrimaryView view = RoutingPolicy.primaries(s);
    assertThat(view.splitBrain()).isTrue();
    assertThat(view.ambiguous()).isFalse();
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.READ_WRITE, s))).containsExactly(1);
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.ANY, s))).containsExactly(1);
    assertThat(RoutingPolicy.explain(TargetSessionAttrs.STANDBY, s)).contains("older timeline 1");
  }

  @Test
  void twoPrimariesOnTheSameTimelineGetNoWrites() {
    List<InstanceState> s = List.of(up(0, false, false, 3), up(1, false, false, 3), standby1);
    assertThat(RoutingPolicy.candidates(TargetSessionAttrs.READ_WRITE, s)).isEmpty();
    assertThat(RoutingPolicy.candidates(TargetSessionAttrs.PRIMARY, s)).isEmpty();
    assertThat(numbers(RoutingPolicy.candidates(TargetSessionAttrs.STANDBY, s))).containsExactly(1);
    assertThat(RoutingPolicy.explain(TargetSessionAttrs.READ_WRITE, s)).startsWith("split brain");
  }

  @Test
  void leastConnectionsWinsAndTiesTakeTurns() {
    Map<Integer, Integer> load = new HashMap<>(Map.of(1, 0, 2, 0));
    List<InstanceState> standbys = List.of(standby2, standby1);
    Map<Integer, Integer> picks = new HashMap<>();
    for (long turn = 0; turn < 100; turn++) {
      InstanceState chosen = RoutingPolicy.choose(standbys, s -> load.get(s.number()), turn);
      picks.merge(chosen.number(), 1, Integer::sum);
    }
    assertThat(picks).containsEntry(1, 50).containsEntry(2, 50);

    load.put(1, 3);
    for (long turn = 0; turn < 5; turn++) {
      assertThat(RoutingPolicy.choose(standbys, s -> load.get(s.number()), turn).number()).isEqualTo(2);
    }
  }

  @Test
  void eachLoadIsReadOnceSoCountsChangingDuringTheChoiceStillGiveAnInstance() {
    // Client counts change on other threads while a choice is made: 1, 1 when first read, 2, 2 after.
    int[] reads = {0};
    InstanceState chosen = RoutingPolicy.choose(List.of(standby1, standby2), s -> reads[0]++ < 2 ? 1 : 2, 0);
    assertThat(chosen.number()).isEqualTo(1);
    assertThat(reads[0]).isEqualTo(2);
  }

  @Test
  void routerBalancesLiveConnectionsAcrossStandbys() {
    InstanceTable table = new InstanceTable(List.of(primary.instance(), standby1.instance(), standby2.instance()),
        java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC));
    table.linkUp(0, primary.attributes(), null);
    table.linkUp(1, standby1.attributes(), null);
    table.linkUp(2, standby2.attributes(), null);
    Router router = new Router(table, new ClientRegistry());
    ClientRegistry.Client client = (i, r) -> { };
    var leases = new java.util.ArrayList<ClientRegistry.Lease>();
    for (int i = 0; i < 10; i++) {
      leases.add(router.route(TargetSessionAttrs.READ_ONLY, java.util.Set.of(), client).orElseThrow());
    }
    assertThat(router.registry().count(1)).isEqualTo(5);
    assertThat(router.registry().count(2)).isEqualTo(5);
    // Closing the clients of one standby makes it the least loaded: the next ones go there.
    leases.stream().filter(l -> l.instance().number() == 1).limit(3).forEach(ClientRegistry.Lease::release);
    for (int i = 0; i < 3; i++) {
      assertThat(router.route(TargetSessionAttrs.READ_ONLY, java.util.Set.of(), client).orElseThrow().instance().number())
          .isEqualTo(1);
    }
  }

  @Test
  void routerSeesEveryTableChangeAtTheNextClient() {
    InstanceTable table = new InstanceTable(List.of(primary.instance(), standby1.instance()),
        java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC));
    Router router = new Router(table, new ClientRegistry());
    ClientRegistry.Client client = (i, r) -> { };
    java.util.function.Function<TargetSessionAttrs, List<Integer>> routeTwice = t -> java.util.stream.Stream
        .of(router.route(t, java.util.Set.of(), client), router.route(t, java.util.Set.of(), client))
        .map(l -> l.map(x -> x.instance().number()).orElse(-1)).toList();

    assertThat(routeTwice.apply(TargetSessionAttrs.ANY)).containsExactly(-1, -1);
    table.linkUp(0, primary.attributes(), null);
    assertThat(routeTwice.apply(TargetSessionAttrs.ANY)).containsExactly(0, 0);
    assertThat(routeTwice.apply(TargetSessionAttrs.STANDBY)).containsExactly(-1, -1);
    table.linkUp(1, standby1.attributes(), null);
    assertThat(routeTwice.apply(TargetSessionAttrs.STANDBY)).containsExactly(1, 1);
    // A failover: the primary's link is lost, the standby is promoted.
    table.linkDown(0, "heartbeat timeout");
    assertThat(routeTwice.apply(TargetSessionAttrs.READ_WRITE)).containsExactly(-1, -1);
    table.attributes(1, up(1, false, false, 3).attributes());
    assertThat(routeTwice.apply(TargetSessionAttrs.READ_WRITE)).containsExactly(1, 1);
    assertThat(routeTwice.apply(TargetSessionAttrs.STANDBY)).containsExactly(-1, -1);
    // An instance that just refused a connection is skipped for that client only.
    table.linkUp(0, up(0, true, false, 3).attributes(), null);
    assertThat(router.route(TargetSessionAttrs.ANY, java.util.Set.of(0, 1), client)).isEmpty();
    assertThat(router.route(TargetSessionAttrs.STANDBY, java.util.Set.of(), client).orElseThrow().instance().number())
        .isZero();
  }

  @Test
  void linkLossFailsEveryClientOfThatInstanceOnly() {
    InstanceTable table = new InstanceTable(List.of(primary.instance(), standby1.instance()),
        java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC));
    table.linkUp(0, primary.attributes(), null);
    table.linkUp(1, standby1.attributes(), null);
    Router router = new Router(table, new ClientRegistry());
    List<Integer> failed = new java.util.ArrayList<>();
    ClientRegistry.Client client = (i, r) -> failed.add(i.number());
    for (int i = 0; i < 3; i++) {
      router.route(TargetSessionAttrs.READ_WRITE, java.util.Set.of(), client).orElseThrow();
      router.route(TargetSessionAttrs.STANDBY, java.util.Set.of(), client).orElseThrow();
    }
    assertThat(router.registry().failAll(table.get(0), "heartbeat timeout")).isEqualTo(3);
    assertThat(failed).containsExactly(0, 0, 0);
    assertThat(router.registry().count(0)).isZero();
    assertThat(router.registry().count(1)).isEqualTo(3);
  }
}
