/*
 * What happens to the network over time, all inside C so that no Python runs
 * per event: hosts spawning with the scenario's NAT mix, Poisson arrivals,
 * sessions that end in a crash or a graceful leave, address changes, the
 * lookup workload and periodic metrics.
 *
 * The distributions use our own log/exp (below) rather than libm's, so the
 * same seed gives the same run on any libc.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---- deterministic math ----------------------------------------------------- */

/* Natural log for x > 0: split x = m * 2^e with m in [1, 2), then
 * ln m = 2 atanh((m - 1) / (m + 1)), whose series converges fast there. */
static double sim_ln(double x) {
  assert(x > 0);
  int e = 0;
  while (x >= 2.0) x /= 2.0, e++;
  while (x < 1.0) x *= 2.0, e--;
  double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0;
  for (int k = 1; k < 60; k += 2) {
    sum += term / k;
    term *= y2;
  }
  return 2.0 * sum + e * 0.69314718055994530942;
}

/* e^x: halve x until small, Taylor series, square back up. */
static double sim_exp(double x) {
  int halvings = 0;
  while (x > 0.5 || x < -0.5) x /= 2.0, halvings++;
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 20; k++) {
    term *= x / k;
    sum += term;
  }
  while (halvings-- > 0) sum *= sum;
  return sum;
}

/* Uniform in (0, 1]. */
static double unit(fl_drbg *d) { return ((double)(fl_drbg_u64(d) >> 11) + 1.0) / 9007199254740992.0; }

static uint64_t sample_exp(fl_drbg *d, uint64_t mean_us) {
  return (uint64_t)(-(double)mean_us * sim_ln(unit(d)));
}

static uint64_t sample_session(fl_sim *s) {
  const fl_sim_churn_config *c = &s->churn_cfg;
  switch (c->session_dist) {
    case FL_SIM_DIST_EXP: return sample_exp(&s->churn, c->session_mean_us);
    case FL_SIM_DIST_WEIBULL: {
      double v = -sim_ln(unit(&s->churn));
      return (uint64_t)((double)c->session_mean_us * sim_exp(sim_ln(v) / c->weibull_shape));
    }
    default: return c->session_mean_us;
  }
}

static uint32_t pick_weighted(fl_drbg *d, const uint32_t *w, size_t stride, uint32_t n) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += *(const uint32_t *)((const uint8_t *)w + i * stride);
  if (total == 0) return 0;
  uint64_t r = fl_drbg_uniform(d, total);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t wi = *(const uint32_t *)((const uint8_t *)w + i * stride);
    if (r < wi) return i;
    r -= wi;
  }
  return n - 1;
}

/* ---- configuration ------------------------------------------------------------ */

int fl_sim_add_nat_profile(fl_sim *s, uint32_t weight, int public_host,
                           const fl_sim_nat_config *cfg) {
  if (s == NULL || (!public_host && cfg == NULL)) return FL_ERR_INVALID;
  if (s->nprofiles >= FL_SIM_NAT_PROFILES_MAX) return FL_ERR_LIMIT;
  if (!public_host && (cfg->mapping < 0 || cfg->mapping > FL_SIM_APD || cfg->filtering < 0 ||
                       cfg->filtering > FL_SIM_APD || cfg->ports < 0 ||
                       cfg->ports > FL_SIM_PORT_RANDOM || cfg->timeout_us == 0))
    return FL_ERR_INVALID;
  sim_profile *p = &s->profiles[s->nprofiles++];
  memset(p, 0, sizeof *p);
  p->weight = weight;
  p->public_host = public_host != 0;
  if (cfg) p->cfg = *cfg;
  return 0;
}

int fl_sim_set_region_weights(fl_sim *s, uint32_t n, const uint32_t *w) {
  if (s == NULL || w == NULL || n == 0 || n > FL_SIM_REGIONS_MAX) return FL_ERR_INVALID;
  memcpy(s->region_w, w, n * sizeof *w);
  s->nregion_w = n;
  return 0;
}

int fl_sim_set_churn(fl_sim *s, const fl_sim_churn_config *c) {
  if (s == NULL || c == NULL || c->end_us < c->start_us || c->crash_ppm > 1000000u ||
      c->session_dist < 0 || c->session_dist > FL_SIM_DIST_WEIBULL ||
      (c->session_dist == FL_SIM_DIST_WEIBULL && !(c->weibull_shape > 0.05)))
    return FL_ERR_INVALID;
  s->churn_cfg = *c;
  s->churn_on = 1;
  if (c->arrival_mean_us > 0 && sim_push(s, c->start_us + sample_exp(&s->churn, c->arrival_mean_us),
                                         SIM_EV_ARRIVAL, 0, 0, NULL) != 0)
    return FL_ERR_NOMEM;
  return 0;
}

int fl_sim_spawn(fl_sim *s, int kind, uint32_t n, uint32_t bootstrap, uint64_t start_us,
                 uint64_t spread_us) {
  if (s == NULL || kind < 0 || kind >= FL_SIM_KINDS || bootstrap > n || start_us < s->now_us)
    return FL_ERR_INVALID;
  if ((uint64_t)s->nhosts + n > FL_SIM_HOSTS_MAX) return FL_ERR_LIMIT;
  if (s->ops[kind]->handle_datagram == NULL) return FL_ERR_UNSUPPORTED; /* kind not built */
  s->spawn_kind = kind;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t t = start_us + (n ? spread_us * i / n : 0);
    int boot = i < bootstrap;
    if (sim_push(s, t, SIM_EV_SPAWN, (uint32_t)kind, (uint64_t)boot, NULL) != 0) return FL_ERR_NOMEM;
  }
  return 0;
}

int fl_sim_schedule_lookups(fl_sim *s, uint32_t count, uint64_t start_us, uint64_t spread_us) {
  if (s == NULL || start_us < s->now_us) return FL_ERR_INVALID;
  if (s->lookups_scheduled + count > FL_SIM_LOOKUPS_MAX) return FL_ERR_LIMIT;
  s->lookups_scheduled += count;
  for (uint32_t i = 0; i < count; i++)
    if (sim_push(s, start_us + spread_us * i / count, SIM_EV_LOOKUP, i, 0, NULL) != 0)
      return FL_ERR_NOMEM;
  return 0;
}

int fl_sim_set_node_mode(fl_sim *s, int mode) {
  if (s == NULL || mode < 0 || mode > 2) return FL_ERR_INVALID;
  s->node_mode = mode;
  return 0;
}

int fl_sim_set_metrics_period(fl_sim *s, uint64_t period_us) {
  if (s == NULL) return FL_ERR_INVALID;
  int first = s->metrics_period_us == 0 && period_us > 0;
  s->metrics_period_us = period_us;
  if (first && sim_push(s, s->now_us + period_us, SIM_EV_METRICS, 0, 0, NULL) != 0)
    return FL_ERR_NOMEM;
  return 0;
}

/* ---- events ---------------------------------------------------------------------- */

static void schedule_session(fl_sim *s, uint32_t id) {
  const fl_sim_churn_config *c = &s->churn_cfg;
  if (c->session_mean_us > 0) {
    int crash = fl_drbg_uniform(&s->churn, 1000000u) < c->crash_ppm;
    (void)sim_push(s, s->now_us + sample_session(s), SIM_EV_LEAVE, id, (uint64_t)!crash, NULL);
  }
  if (c->addr_change_mean_us > 0)
    (void)sim_push(s, s->now_us + sample_exp(&s->churn, c->addr_change_mean_us), SIM_EV_ADDR, id,
                   0, NULL);
}

static int boot_add(fl_sim *s, const fl_addr *a) {
  if (s->nboot == s->boot_cap) {
    uint32_t cap = s->boot_cap ? s->boot_cap * 2 : 8;
    fl_addr *b = realloc(s->boot, cap * sizeof *b);
    if (b == NULL) return FL_ERR_NOMEM;
    s->boot = b;
    s->boot_cap = cap;
  }
  s->boot[s->nboot++] = *a;
  return 0;
}

/* One host joins: NAT profile and region from the mix, then bootstrap. */
static void spawn(fl_sim *s, int kind, int boot, int churned) {
  int nat = -1;
  uint32_t pi = s->nprofiles ? pick_weighted(&s->churn, &s->profiles[0].weight,
                                             sizeof s->profiles[0], s->nprofiles) : 0;
  uint32_t region = s->nregion_w ? pick_weighted(&s->churn, s->region_w, sizeof s->region_w[0],
                                                 s->nregion_w) : 0;
  if (!boot && s->nprofiles && !s->profiles[pi].public_host) {
    nat = fl_sim_nat_new(s, &s->profiles[pi].cfg);
    if (nat < 0) return;
  }
  int id = sim_host_create(s, kind, nat, region, boot);
  if (id < 0) return;
  if (boot && s->hosts[id].port[FL_NODE_SOCK_SERVER]) {
    fl_addr a = sim_addr(s->hosts[id].ip, s->hosts[id].port[FL_NODE_SOCK_SERVER]);
    (void)boot_add(s, &a);
  }
  if (s->churn_on && (churned || s->churn_cfg.churn_initial) && !boot) schedule_session(s, (uint32_t)id);
}

static int query_add(fl_sim *s, uint32_t host, uint64_t qid) {
  if (s->nqueries == s->queries_cap) {
    uint32_t cap = s->queries_cap ? s->queries_cap * 2 : 1024;
    sim_query *q = realloc(s->queries, cap * sizeof *q);
    if (q == NULL) return FL_ERR_NOMEM;
    s->queries = q;
    s->queries_cap = cap;
  }
  sim_query *q = &s->queries[s->nqueries];
  *q = (sim_query){.host = host, .ok = -1, .id = qid, .start_us = s->now_us};
  if (sim_map_put(&s->query_ix, host, qid, s->nqueries) != 0) return FL_ERR_NOMEM;
  s->nqueries++;
  return 0;
}

static void lookup(fl_sim *s) {
  uint8_t target[32];
  fl_drbg_bytes(&s->work, target, sizeof target);
  if (s->st.hosts_live == 0) return;
  uint32_t id = s->live[fl_drbg_uniform(&s->work, s->st.hosts_live)];
  sim_host *h = &s->hosts[id];
  const fl_sim_node_ops *ops = s->ops[h->kind];
  if (ops->lookup == NULL) return;
  uint64_t qid = 0;
  sim_rec_io(s, id, "lookup", 0, NULL, target, sizeof target);
  int rc = ops->lookup(h->node, s->now_us, target, &qid);
  sim_fp(s, 40, id, qid, (uint64_t)(int64_t)rc, target, sizeof target);
  if (rc < 0) {
    s->st.node_errors++;
    return;
  }
  s->st.queries_started++;
  if (query_add(s, id, qid) == 0) {
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, target, sizeof target);
    sim_rec_event(s, "query_start", id, qid, 0, hex);
  }
  sim_drive(s, id);
}

void sim_query_done(fl_sim *s, uint32_t host, uint64_t id, int ok, uint32_t hops) {
  uint64_t *ix = sim_map_get(&s->query_ix, host, id);
  sim_fp(s, 41, host, id, (uint64_t)ok << 32 | hops, NULL, 0);
  if (ix == NULL) return; /* a query the node started on its own (bootstrap, refresh) */
  sim_query *q = &s->queries[*ix];
  if (q->ok != -1) return;
  q->ok = ok ? 1 : 0;
  q->hops = hops;
  q->end_us = s->now_us;
  s->st.queries_done++;
  if (ok) s->st.queries_ok++;
  sim_rec_query(s, q);
  (void)sim_map_del(&s->query_ix, host, id);
}

uint32_t fl_sim_query_count(const fl_sim *s) { return s ? s->nqueries : 0; }

int fl_sim_query_get(const fl_sim *s, uint32_t i, uint32_t *host, uint64_t *start_us,
                     uint64_t *end_us, uint32_t *hops, int32_t *ok) {
  if (s == NULL || i >= s->nqueries) return FL_ERR_INVALID;
  const sim_query *q = &s->queries[i];
  if (host) *host = q->host;
  if (start_us) *start_us = q->start_us;
  if (end_us) *end_us = q->end_us;
  if (hops) *hops = q->hops;
  if (ok) *ok = q->ok;
  return 0;
}

void sim_metrics(fl_sim *s) {
  uint64_t fill = 0, mem = 0, drops = 0;
  for (uint32_t i = 0; i < s->st.hosts_live; i++) {
    const sim_host *h = &s->hosts[s->live[i]];
    const fl_sim_node_ops *ops = s->ops[h->kind];
    if (ops->metrics) {
      uint64_t f = 0, m = 0, d = 0;
      ops->metrics(h->node, &f, &m, &d);
      fill += f;
      mem += m;
      drops += d;
    }
  }
  s->st.node_queue_drops = drops;
  sim_rec_metrics(s, s->st.hosts_live, fill, mem);
}

void sim_churn_event(fl_sim *s, const sim_ev *ev) {
  switch (ev->type) {
    case SIM_EV_SPAWN: spawn(s, (int)ev->a, (int)ev->b, 0); break;
    case SIM_EV_ARRIVAL: {
      const fl_sim_churn_config *c = &s->churn_cfg;
      if (s->now_us >= c->end_us) break;
      if (c->max_live == 0 || s->st.hosts_live < c->max_live) spawn(s, s->spawn_kind, 0, 1);
      (void)sim_push(s, s->now_us + 1 + sample_exp(&s->churn, c->arrival_mean_us), SIM_EV_ARRIVAL,
                     0, 0, NULL);
      break;
    }
    case SIM_EV_LEAVE:
      if (s->hosts[ev->a].live && s->now_us < s->churn_cfg.end_us)
        SIM_IGNORE(fl_sim_host_leave(s, (int)ev->a, (int)ev->b));
      break;
    case SIM_EV_ADDR:
      if (s->hosts[ev->a].live && s->now_us < s->churn_cfg.end_us) {
        SIM_IGNORE(fl_sim_host_change_addr(s, (int)ev->a));
        (void)sim_push(s, s->now_us + 1 + sample_exp(&s->churn, s->churn_cfg.addr_change_mean_us),
                       SIM_EV_ADDR, ev->a, 0, NULL);
      }
      break;
    case SIM_EV_LOOKUP: lookup(s); break;
    case SIM_EV_RECORDS: sim_records_event(s, ev); break;
    case SIM_EV_METRICS:
      sim_metrics(s);
      sim_records_metrics(s);
      (void)sim_push(s, s->now_us + s->metrics_period_us, SIM_EV_METRICS, 0, 0, NULL);
      break;
    default: assert(0 && "unknown event type");
  }
}
