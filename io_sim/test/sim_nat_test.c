/*
 * NAT behaviour against RFC 4787, with raw datagrams between simulated hosts.
 *
 * RFC 4787 defines each box's behaviour, not what happens between two boxes,
 * so the expected outcomes below are derived by hand from its definitions
 * and written out as tables; the simulator must produce them exactly.
 *
 * (a) Unsolicited: host A behind the NAT has sent to server S (so a mapping
 *     A' exists). A third host T sends to A'. Filtering decides alone
 *     (section 5): endpoint-independent lets T in; address-dependent and
 *     address-and-port-dependent do not (A never sent to T). Column a2: S
 *     itself sends from another port: EI and AD let it in, APD does not.
 *
 * (b) Simultaneous exchange: A (NAT 1) and B (NAT 2) each send to S, which
 *     observes their mapped addresses A' and B'. Then at the same instant A
 *     sends to B' and B sends to A', and each sends only there (no replying
 *     to an observed source). The datagram A -> B' is let in by B's box iff
 *       B filters EI (anyone may use B'); or
 *       B filters AD and B's send to A' left through B' itself, which holds
 *         iff B maps EI (otherwise B -> A' made a new mapping B'' and the
 *         permission for A's address sits on B'', not B'); or
 *       B filters APD, B maps EI (as above) and A's datagram comes from the
 *         exact port B sent to, A', which holds iff A maps EI too.
 *     The exchange succeeds iff both directions get in.
 *     Deriving it per receiving box R and sending mapping Ms:
 *       EI/EI, EI/AD, AD/EI, APD/EI: always in; EI/APD: in iff Ms = EI;
 *       AD/AD, AD/APD, APD/AD, APD/APD: never.
 *     This holds for every port-allocation behaviour, which only chooses the
 *     numbers; the test runs the table under all three.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "testing/fl_test.h"

#define LAT_US 10000u
#define MIN2 (120u * 1000000u)

/* Rows/columns: (mapping, filtering) in this order. */
static const int M[9] = {FL_SIM_EI, FL_SIM_EI, FL_SIM_EI, FL_SIM_AD, FL_SIM_AD,
                         FL_SIM_AD, FL_SIM_APD, FL_SIM_APD, FL_SIM_APD};
static const int F[9] = {FL_SIM_EI, FL_SIM_AD, FL_SIM_APD, FL_SIM_EI, FL_SIM_AD,
                         FL_SIM_APD, FL_SIM_EI, FL_SIM_AD, FL_SIM_APD};
static const char *const NAME[9] = {"EI/EI", "EI/AD", "EI/APD", "AD/EI", "AD/AD",
                                    "AD/APD", "APD/EI", "APD/AD", "APD/APD"};

/* (a) unsolicited from a third host; (a2) from S's address, another port. */
static const char EXPECT_A[9] = {1, 0, 0, 1, 0, 0, 1, 0, 0};
static const char EXPECT_A2[9] = {1, 1, 0, 1, 1, 0, 1, 1, 0};

/* (b) row = A's box, column = B's box. */
static const char *const EXPECT_B[9] = {
    /*         EI/EI EI/AD EI/APD AD/EI AD/AD AD/APD APD/EI APD/AD APD/APD */
    /* EI/EI  */ "111100100",
    /* EI/AD  */ "111100100",
    /* EI/APD */ "111000000",
    /* AD/EI  */ "110100100",
    /* AD/AD  */ "000000000",
    /* AD/APD */ "000000000",
    /* APD/EI */ "110100100",
    /* APD/AD */ "000000000",
    /* APD/APD*/ "000000000",
};

static fl_sim_nat_config nat_cfg(int m, int f, int ports) {
  fl_sim_nat_config c = {.mapping = m, .filtering = f, .ports = ports, .hairpin = 0,
                         .firewall = 0, .inbound_refresh = 0, .timeout_us = MIN2};
  return c;
}

static fl_sim *new_sim(void) {
  fl_sim *s = fl_sim_new(fl_test_seed());
  if (s && fl_sim_set_latency(s, FL_SIM_LAT_CONSTANT, LAT_US, 0) != 0) return NULL;
  return s;
}

static fl_addr addr_of(fl_sim *s, int host) {
  fl_addr a;
  memset(&a, 0, sizeof a);
  if (fl_sim_host_addr(s, host, 0, &a) != 0) a.family = 0;
  return a;
}

static int send_str(fl_sim *s, int from, const fl_addr *to, const char *msg) {
  return fl_sim_raw_send(s, from, to, (const uint8_t *)msg, strlen(msg));
}

/* Pop one datagram; returns 1 and its source if one arrived. */
static int recv_one(fl_sim *s, int host, fl_addr *from) {
  uint8_t buf[FL_DGRAM_BYTES_MAX];
  return fl_sim_raw_recv(s, host, from, buf, sizeof buf) >= 0;
}

static void run_for(fl_sim *s, uint64_t us) {
  (void)fl_sim_run_until(s, fl_sim_now(s) + us, 0);
}

/* Host behind a fresh box of (m, f); its mapped address as S sees it. */
static int natted(fl_sim *s, int m, int f, int ports, int server, fl_addr *mapped) {
  fl_sim_nat_config c = nat_cfg(m, f, ports);
  int nat = fl_sim_nat_new(s, &c);
  if (nat < 0) return nat;
  int h = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
  if (h < 0) return h;
  fl_addr sa = addr_of(s, server);
  if (send_str(s, h, &sa, "hello") != 0) return -1;
  run_for(s, 2 * LAT_US);
  if (!recv_one(s, server, mapped)) return -1;
  return h;
}

static void test_unsolicited_table(void) {
  for (int i = 0; i < 9; i++) {
    fl_sim *s = new_sim();
    FL_CHECK(s != NULL);
    int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
    int third = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
    FL_CHECK(srv >= 0 && third >= 0);
    fl_addr mapped, from;
    int a = natted(s, M[i], F[i], FL_SIM_PORT_SEQUENTIAL, srv, &mapped);
    FL_CHECK(a >= 0);
    FL_CHECK_EQ(send_str(s, third, &mapped, "unsolicited"), 0);
    run_for(s, 2 * LAT_US);
    int got = recv_one(s, a, &from);
    if (got != EXPECT_A[i]) fprintf(stderr, "  (a) %s: got %d want %d\n", NAME[i], got, EXPECT_A[i]);
    FL_CHECK_EQ(got, EXPECT_A[i]);
    /* The solicited reply from S itself always gets in. */
    FL_CHECK_EQ(send_str(s, srv, &mapped, "reply"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK_EQ(recv_one(s, a, &from), 1);
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_free(s);
  }
}

/* a2 needs a sender at S's IP but another port: a public host owns one IP
 * and one raw socket, so the test puts S behind an EI/EI box with two
 * hosts — same public IP, different mapped ports. */
static void test_unsolicited_same_ip_other_port(void) {
  for (int i = 0; i < 9; i++) {
    fl_sim *s = new_sim();
    FL_CHECK(s != NULL);
    fl_sim_nat_config open = nat_cfg(FL_SIM_EI, FL_SIM_EI, FL_SIM_PORT_SEQUENTIAL);
    int snat = fl_sim_nat_new(s, &open);
    int s1 = fl_sim_host_new(s, FL_SIM_KIND_RAW, snat, 0);
    int s2 = fl_sim_host_new(s, FL_SIM_KIND_RAW, snat, 0);
    int obs = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
    FL_CHECK(s1 >= 0 && s2 >= 0 && obs >= 0);
    /* S1 and S2 open their mappings (towards the observer) first. */
    fl_addr oa = addr_of(s, obs), s1m, s2m, mapped, from;
    FL_CHECK_EQ(send_str(s, s1, &oa, "s1"), 0);
    FL_CHECK_EQ(send_str(s, s2, &oa, "s2"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK(recv_one(s, obs, &s1m) && recv_one(s, obs, &s2m));
    FL_CHECK(memcmp(s1m.ip, s2m.ip, 4) == 0 && s1m.port != s2m.port);
    fl_sim_nat_config c = nat_cfg(M[i], F[i], FL_SIM_PORT_SEQUENTIAL);
    int nat = fl_sim_nat_new(s, &c);
    int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
    FL_CHECK(a >= 0);
    FL_CHECK_EQ(send_str(s, a, &s1m, "to s1"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK(recv_one(s, s1, &mapped));
    FL_CHECK_EQ(send_str(s, s2, &mapped, "from s2"), 0);
    run_for(s, 2 * LAT_US);
    int got = recv_one(s, a, &from);
    if (got != EXPECT_A2[i]) fprintf(stderr, "  (a2) %s: got %d want %d\n", NAME[i], got, EXPECT_A2[i]);
    FL_CHECK_EQ(got, EXPECT_A2[i]);
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_free(s);
  }
}

/* One cell of (b): returns 1 if both got the other's datagram. */
static int exchange(int i, int j, int ports, int *err) {
  *err = 1;
  fl_sim *s = new_sim();
  if (s == NULL) return 0;
  int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  fl_addr am, bm, from;
  int a = natted(s, M[i], F[i], ports, srv, &am);
  int b = natted(s, M[j], F[j], ports, srv, &bm);
  if (srv < 0 || a < 0 || b < 0) return 0;
  if (send_str(s, a, &bm, "a->b") != 0 || send_str(s, b, &am, "b->a") != 0) return 0;
  run_for(s, 3 * LAT_US);
  int a_got = recv_one(s, a, &from), b_got = recv_one(s, b, &from);
  if (fl_sim_check(s) != 0) return -1;
  fl_sim_free(s);
  *err = 0;
  return a_got && b_got;
}

static void test_simultaneous_exchange_table(void) {
  static const int PORTS[3] = {FL_SIM_PORT_PRESERVE, FL_SIM_PORT_SEQUENTIAL, FL_SIM_PORT_RANDOM};
  int mismatches = 0;
  for (int p = 0; p < 3; p++) {
    for (int i = 0; i < 9; i++) {
      for (int j = 0; j < 9; j++) {
        int err;
        int got = exchange(i, j, PORTS[p], &err);
        FL_CHECK_EQ(err, 0);
        int want = EXPECT_B[i][j] == '1';
        if (got != want) {
          fprintf(stderr, "  (b) ports=%d A=%s B=%s: got %d want %d\n", p, NAME[i], NAME[j], got, want);
          mismatches++;
        }
      }
    }
  }
  FL_CHECK_EQ(mismatches, 0);
}

/* Two hosts behind one box reach each other through its public address only
 * with hairpinning, and then see the mapped (not private) source (REQ-9). */
static void test_hairpinning(void) {
  for (int on = 0; on <= 1; on++) {
    fl_sim *s = new_sim();
    FL_CHECK(s != NULL);
    fl_sim_nat_config c = nat_cfg(FL_SIM_EI, FL_SIM_EI, FL_SIM_PORT_PRESERVE);
    c.hairpin = on;
    int nat = fl_sim_nat_new(s, &c);
    int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
    int h1 = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
    int h2 = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
    FL_CHECK(srv >= 0 && h1 >= 0 && h2 >= 0);
    fl_addr sa = addr_of(s, srv), m1, m2, from;
    FL_CHECK_EQ(send_str(s, h1, &sa, "1"), 0);
    FL_CHECK_EQ(send_str(s, h2, &sa, "2"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK(recv_one(s, srv, &m1) && recv_one(s, srv, &m2));
    /* Port preservation: both hosts bound the same port, so only one keeps it. */
    fl_addr p1 = addr_of(s, h1);
    FL_CHECK_EQ(m1.port, p1.port);
    FL_CHECK(m2.port != p1.port);
    fl_sim_stats st;
    fl_sim_get_stats(s, &st);
    uint64_t before = st.dropped[FL_SIM_DROP_HAIRPIN];
    FL_CHECK_EQ(send_str(s, h1, &m2, "hairpin"), 0);
    run_for(s, 2 * LAT_US);
    int got = recv_one(s, h2, &from);
    FL_CHECK_EQ(got, on);
    fl_sim_get_stats(s, &st);
    FL_CHECK_EQ(st.dropped[FL_SIM_DROP_HAIRPIN] - before, on ? 0 : 1);
    if (on) FL_CHECK(fl_addr_equal(&from, &m1));
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_free(s);
  }
}

/* A mapping lives timeout_us after its last outbound refresh; inbound
 * traffic does not refresh it unless inbound_refresh is set. */
static void test_mapping_expiry_and_refresh(void) {
  for (int inbound_refresh = 0; inbound_refresh <= 1; inbound_refresh++) {
    fl_sim *s = new_sim();
    FL_CHECK(s != NULL);
    fl_sim_nat_config c = nat_cfg(FL_SIM_EI, FL_SIM_APD, FL_SIM_PORT_SEQUENTIAL);
    c.inbound_refresh = inbound_refresh;
    int nat = fl_sim_nat_new(s, &c);
    int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
    int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
    FL_CHECK(nat >= 0 && srv >= 0 && a >= 0);
    fl_addr sa = addr_of(s, srv), m, from;
    FL_CHECK_EQ(send_str(s, a, &sa, "open"), 0); /* mapping refreshed at t=0 */
    run_for(s, 2 * LAT_US);
    FL_CHECK(recv_one(s, srv, &m));
    FL_CHECK_EQ(fl_sim_nat_mappings(s, nat), 1);
    /* Inbound at 100 s: inside the lifetime. */
    FL_CHECK_EQ(fl_sim_run_until(s, 100000000u, 0) >= 0, 1);
    FL_CHECK_EQ(send_str(s, srv, &m, "in time"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK_EQ(recv_one(s, a, &from), 1);
    /* Inbound arriving at 125 s: past 120 s unless the inbound refreshed. */
    FL_CHECK_EQ(fl_sim_run_until(s, 125000000u - LAT_US, 0) >= 0, 1);
    FL_CHECK_EQ(send_str(s, srv, &m, "late"), 0);
    run_for(s, 2 * LAT_US);
    FL_CHECK_EQ(recv_one(s, a, &from), inbound_refresh);
    FL_CHECK_EQ(fl_sim_nat_mappings(s, nat), inbound_refresh);
    FL_CHECK_EQ(fl_sim_check(s), 0);
    fl_sim_free(s);
  }
  /* Outbound refreshes: a send at 100 s keeps it open until 220 s. */
  fl_sim *s = new_sim();
  FL_CHECK(s != NULL);
  fl_sim_nat_config c = nat_cfg(FL_SIM_EI, FL_SIM_EI, FL_SIM_PORT_SEQUENTIAL);
  int nat = fl_sim_nat_new(s, &c);
  int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
  fl_addr sa = addr_of(s, srv), m, m2, from;
  FL_CHECK_EQ(send_str(s, a, &sa, "open"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK(recv_one(s, srv, &m));
  FL_CHECK_EQ(fl_sim_run_until(s, 100000000u, 0) >= 0, 1);
  FL_CHECK_EQ(send_str(s, a, &sa, "keepalive"), 0);
  FL_CHECK_EQ(fl_sim_run_until(s, 200000000u, 0) >= 0, 1);
  FL_CHECK(recv_one(s, srv, &m2));
  FL_CHECK(fl_addr_equal(&m, &m2));
  FL_CHECK_EQ(send_str(s, srv, &m, "at 200 s"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK_EQ(recv_one(s, a, &from), 1);
  FL_CHECK_EQ(fl_sim_run_until(s, 221000000u, 0) >= 0, 1);
  FL_CHECK_EQ(send_str(s, srv, &m, "at 221 s"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK_EQ(recv_one(s, a, &from), 0);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

/* A firewalled host keeps its port and accepts only answers. */
static void test_firewall(void) {
  fl_sim *s = new_sim();
  FL_CHECK(s != NULL);
  fl_sim_nat_config c = nat_cfg(FL_SIM_EI, FL_SIM_APD, FL_SIM_PORT_PRESERVE);
  c.firewall = 1;
  int fw = fl_sim_nat_new(s, &c);
  int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int third = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, fw, 0);
  FL_CHECK(fw >= 0 && srv >= 0 && third >= 0 && a >= 0);
  fl_addr sa = addr_of(s, srv), pub, m, from;
  FL_CHECK_EQ(fl_sim_host_public_ip(s, a, &pub), 0);
  pub.port = addr_of(s, a).port;
  FL_CHECK_EQ(send_str(s, third, &pub, "cold call"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK_EQ(recv_one(s, a, &from), 0);
  FL_CHECK_EQ(send_str(s, a, &sa, "hi"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK(recv_one(s, srv, &m));
  FL_CHECK(fl_addr_equal(&m, &pub));
  FL_CHECK_EQ(send_str(s, srv, &m, "answer"), 0);
  FL_CHECK_EQ(send_str(s, third, &m, "still cold"), 0);
  run_for(s, 2 * LAT_US);
  FL_CHECK_EQ(recv_one(s, a, &from), 1);
  FL_CHECK(fl_addr_equal(&from, &sa));
  FL_CHECK_EQ(recv_one(s, a, &from), 0);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

/* The mapping table holds FL_SIM_NAT_MAPPINGS_MAX; the next flow is dropped
 * and counted. */
static void test_mapping_table_limit(void) {
  fl_sim *s = new_sim();
  FL_CHECK(s != NULL);
  fl_sim_nat_config c = nat_cfg(FL_SIM_APD, FL_SIM_APD, FL_SIM_PORT_SEQUENTIAL);
  int nat = fl_sim_nat_new(s, &c);
  int srv = fl_sim_host_new(s, FL_SIM_KIND_RAW, -1, 0);
  int a = fl_sim_host_new(s, FL_SIM_KIND_RAW, nat, 0);
  FL_CHECK(nat >= 0 && srv >= 0 && a >= 0);
  fl_addr to = addr_of(s, srv);
  uint32_t max = (uint32_t)fl_sim_nat_mappings_max();
  for (uint32_t i = 0; i <= max; i++) {
    to.port = (uint16_t)(1000 + i);
    FL_CHECK_EQ(send_str(s, a, &to, "x"), 0);
  }
  fl_sim_stats st;
  fl_sim_get_stats(s, &st);
  FL_CHECK_EQ(fl_sim_nat_mappings(s, nat), (int)max);
  FL_CHECK_EQ(st.dropped[FL_SIM_DROP_NAT_FULL], 1);
  FL_CHECK_EQ(st.nat_mappings_high, max);
  FL_CHECK_EQ(fl_sim_check(s), 0);
  fl_sim_free(s);
}

int main(void) {
  FL_RUN(test_unsolicited_table);
  FL_RUN(test_unsolicited_same_ip_other_port);
  FL_RUN(test_simultaneous_exchange_table);
  FL_RUN(test_hairpinning);
  FL_RUN(test_mapping_expiry_and_refresh);
  FL_RUN(test_firewall);
  FL_RUN(test_mapping_table_limit);
  return fl_test_done();
}
