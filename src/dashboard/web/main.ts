import 'uplot/dist/uPlot.min.css';
import './style.css';
import { SignedOut, getJson, postJson } from './api.js';
import type { ColdStart, CostReport, Detail, FunctionInfo, Invocation, LivePoint, Overview, Session } from './api.js';
import { CHARTS, LiveChart } from './charts.js';
import { clear, fmtMs, fmtNumber, fmtTime, fmtUsd, h } from './dom.js';

/**
 * The modelfn dashboard: functions and their state, per-function live charts, recent invocations
 * with their logs, and cost. Pages are hash routes; a server-sent-events stream (/ui/api/events)
 * keeps whatever is on screen current.
 */
const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
const liveDot = document.getElementById('live')!;

interface Page {
  onTick?(points: Record<string, LivePoint>): void;
  onFunctions?(): void;
  destroy?(): void;
}

let page: Page | undefined;
let events: EventSource | undefined;
let session: Session | undefined;

async function start(): Promise<void> {
  session = await getJson<Session>('/session');
  window.addEventListener('hashchange', () => void route());
  await route();
}

async function route(): Promise<void> {
  page?.destroy?.();
  page = undefined;
  if (session?.authRequired && !session.signedIn) return showLogin();
  nav.hidden = false;
  renderWho();
  connect();
  const hash = location.hash.replace(/^#/, '') || '/';
  try {
    const fn = /^\/fn\/([A-Za-z0-9_-]+)$/.exec(hash);
    if (fn) page = await functionPage(fn[1]!);
    else if (hash === '/cost') page = await costPage();
    else page = await functionsPage();
  } catch (err) {
    if (err instanceof SignedOut) {
      session = { authRequired: true, signedIn: false };
      return showLogin();
    }
    clear(app);
    app.append(h('p', { class: 'error' }, String((err as Error).message)));
  }
}

function renderWho(): void {
  clear(who);
  if (!session?.authRequired) {
    who.append('access keys not configured: open like the API');
    return;
  }
  who.append(`signed in as ${session.accessKeyId ?? ''}`, h('button', { class: 'link', id: 'sign-out', onclick: () => void signOut() }, 'sign out'));
}

async function signOut(): Promise<void> {
  await postJson('/logout', {});
  events?.close();
  events = undefined;
  session = { authRequired: true, signedIn: false };
  showLogin();
}

function showLogin(): void {
  events?.close();
  events = undefined;
  nav.hidden = true;
  clear(who);
  clear(app);
  const error = h('div', { class: 'error', id: 'login-error' });
  const form = h(
    'form',
    { class: 'login card', id: 'login-form' },
    h('h1', {}, 'Sign in to modelfn'),
    h('p', { class: 'muted' }, 'Use an access key of this platform (the same credentials as the API).'),
    h('label', {}, 'Access key id', h('br'), h('input', { name: 'accessKeyId', autocomplete: 'username', required: true, style: 'width:100%' })),
    h('label', {}, 'Secret access key', h('br'), h('input', { name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true, style: 'width:100%' })),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    void postJson<Session & { message?: string }>('/login', { accessKeyId: data.get('accessKeyId'), secretAccessKey: data.get('secretAccessKey') }).then(({ status, body }) => {
      if (status !== 200) {
        error.textContent = body.message ?? 'sign-in failed';
        return;
      }
      session = body;
      void route();
    });
  });
  app.append(form);
}

/** One live stream for the whole app; the current page gets its events. */
function connect(): void {
  if (events) return;
  events = new EventSource('/ui/api/events');
  events.addEventListener('open', () => liveDot.classList.add('on'));
  events.addEventListener('error', () => {
    liveDot.classList.remove('on');
    // A stream refused for a lost session: ask again who we are.
    quietly(async () => {
      const s = await getJson<Session>('/session');
      if (s.authRequired && !s.signedIn) {
        session = s;
        showLogin();
      }
    });
  });
  events.addEventListener('tick', (e) => page?.onTick?.((JSON.parse((e as MessageEvent<string>).data) as { points: Record<string, LivePoint> }).points));
  events.addEventListener('functions', () => page?.onFunctions?.());
}

/** Refreshes run in the background: a failed one (platform restarting, network gone) waits for the next event. */
function quietly(work: () => Promise<void>): void {
  work().catch(() => liveDot.classList.remove('on'));
}

/** The keep-alive policy and what it decided, per version that has run. */
function keepAliveText(f: FunctionInfo): string {
  const configured = f.keepAlivePolicy ?? 'platform default';
  if (f.keepAlive.length === 0) return `${configured} (no calls yet)`;
  return f.keepAlive
    .map((k) => {
      const windows = k.prewarmSec > 0 ? `pre-warm after ${fmtNumber(k.prewarmSec / 60, 1)} min, keep until ${fmtNumber(k.keepAliveSec / 60, 1)} min` : `keep ${fmtNumber(k.keepAliveSec / 60, 1)} min`;
      return `${k.version}: ${k.policy} (${k.mode}) ${windows}; ${k.reason}${k.nextPrewarmAt ? `; next pre-warm ${fmtTime(Date.parse(k.nextPrewarmAt))}` : ''}`;
    })
    .join(' | ');
}

function stateOf(f: FunctionInfo): HTMLElement {
  const i = f.instances;
  if (i.instances === 0) return h('span', { class: 'badge' }, 'scaled to zero');
  const parts = [];
  if (i.busy) parts.push(`${i.busy} busy`);
  if (i.idle) parts.push(`${i.idle} idle`);
  if (i.starting) parts.push(`${i.starting} starting`);
  const cls = i.busy ? 'busy' : i.starting ? 'starting' : 'warm';
  return h('span', { class: `badge ${cls}` }, parts.join(', '));
}

// ---- functions ----------------------------------------------------------------------------------

async function functionsPage(): Promise<Page> {
  let overview = await getJson<Overview>('/overview');
  const render = () => {
    clear(app);
    app.append(h('h1', {}, 'Functions'));
    if (!overview.telemetry) app.append(h('div', { class: 'notice' }, 'Telemetry is switched off on this platform: charts and cost are empty.'));
    if (overview.functions.length === 0) {
      app.append(h('p', { class: 'muted', id: 'no-functions' }, 'No functions deployed yet. Try: npx modelfn deploy ./examples/hello-node --name hello --route "POST /hello"'));
      return;
    }
    const rows = overview.functions.map((f) =>
      h(
        'tr',
        { class: 'clickable', 'data-fn': f.name, onclick: () => (location.hash = `#/fn/${f.name}`) },
        h('td', {}, h('a', { href: `#/fn/${f.name}` }, f.name)),
        h('td', {}, f.runtime),
        h('td', {}, stateOf(f)),
        h('td', {}, f.versions.length ? `$LATEST, ${f.versions.join(', ')}` : '$LATEST'),
        h('td', { class: 'num' }, `${f.memoryMb} MB`),
        h('td', { class: 'num' }, fmtNumber(f.last5m?.requests ?? 0)),
        h('td', { class: 'num' }, fmtNumber(f.last5m?.errors ?? 0)),
        h('td', { class: 'num' }, fmtNumber(f.last5m?.throttles ?? 0)),
        h('td', { class: 'num' }, fmtNumber(f.last5m?.coldStarts ?? 0)),
        h('td', { class: 'num' }, fmtMs(f.latest?.p99)),
      ),
    );
    app.append(
      h(
        'table',
        { id: 'functions-table' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, 'Function'), h('th', {}, 'Runtime'), h('th', {}, 'State'), h('th', {}, 'Versions'), h('th', { class: 'num' }, 'Memory'),
            h('th', { class: 'num' }, 'Requests (5 min)'), h('th', { class: 'num' }, 'Errors'), h('th', { class: 'num' }, 'Throttles'), h('th', { class: 'num' }, 'Cold starts'), h('th', { class: 'num' }, 'p99 (last step)')),
        ),
        h('tbody', {}, ...rows),
      ),
    );
  };
  render();
  let refreshing = false;
  const refresh = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      overview = await getJson<Overview>('/overview');
      render();
    } finally {
      refreshing = false;
    }
  };
  return { onTick: () => quietly(refresh), onFunctions: () => quietly(refresh) };
}

// ---- one function -------------------------------------------------------------------------------

async function functionPage(name: string): Promise<Page> {
  const detail = await getJson<Detail>(`/functions/${name}`);
  let points = detail.points;
  clear(app);
  const facts = h('div', { class: 'facts card', id: 'fn-facts' });
  const renderFacts = (f: FunctionInfo) => {
    clear(facts);
    const fact = (label: string, value: Node | string) => h('div', {}, h('span', {}, label), value);
    facts.append(
      fact('state', stateOf(f)),
      fact('runtime', f.runtime),
      fact('handler', f.handler),
      fact('memory', `${f.memoryMb} MB`),
      fact('timeout', `${f.timeoutSec} s`),
      fact('versions', ['$LATEST', ...f.versions].join(', ')),
      fact('aliases', f.aliases.map((a) => `${a.name}→${a.functionVersion}`).join(', ') || '–'),
      fact('routes', f.routes.map((r) => (r.path === '$default' ? '$default' : `${r.method} ${r.path}`)).join(', ') || '–'),
      fact('reserved concurrency', f.reservedConcurrency === null ? '–' : String(f.reservedConcurrency)),
      fact('keep-alive', keepAliveText(f)),
      fact('modified', f.lastModified),
    );
  };
  renderFacts(detail.function);
  const grid = h('div', { class: 'grid' });
  app.append(h('h1', {}, h('a', { href: '#/' }, 'Functions'), ' / ', name), facts, h('h2', {}, `Live (one point per ${detail.stepMs / 1000} s, last 30 minutes)`), grid);
  const charts = CHARTS.map((spec) => {
    const box = h('div', { class: 'chart card' }, h('h3', {}, spec.title));
    grid.append(box);
    return new LiveChart(spec, box, detail.stepMs / 1000);
  });
  const draw = () => charts.forEach((c) => c.setPoints(points));
  draw();

  const coldTable = h('tbody', {});
  const renderColdStarts = (list: ColdStart[]) => {
    clear(coldTable);
    if (list.length === 0) coldTable.append(h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No cold starts since the platform started.')));
    for (const c of list) {
      const p = c.phases;
      coldTable.append(
        h(
          'tr',
          { 'data-instance-id': c.instanceId ?? '' },
          h('td', {}, c.at ? fmtTime(Date.parse(c.at)) : ''),
          h('td', {}, c.version),
          h('td', {}, c.trigger),
          h('td', {}, c.stemCell ? 'yes' : 'no'),
          h('td', { class: 'num' }, fmtMs(c.initDurationMs)),
          h('td', { class: 'num' }, fmtMs(p.fetchMs)),
          h('td', { class: 'num' }, fmtMs(p.processStartMs)),
          h('td', { class: 'num' }, fmtMs(p.runtimeInitMs)),
          h('td', { class: 'num' }, fmtMs(p.userInitMs)),
          h('td', { class: 'num' }, fmtMs(p.firstInvokeMs)),
        ),
      );
    }
  };
  renderColdStarts(detail.coldStarts);
  app.append(
    h('h2', {}, 'Recent cold starts'),
    h(
      'table',
      { id: 'cold-starts-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Version'), h('th', {}, 'Started for'), h('th', {}, 'Stem cell'), h('th', { class: 'num' }, 'Init'),
        h('th', { class: 'num' }, 'Fetch'), h('th', { class: 'num' }, 'Process start'), h('th', { class: 'num' }, 'Runtime init'), h('th', { class: 'num' }, 'User init'), h('th', { class: 'num' }, 'First invoke'))),
      coldTable,
    ),
  );

  const logs = h('div', { id: 'invocation-logs' });
  const table = h('tbody', {});
  app.append(
    h('h2', {}, 'Recent invocations'),
    h('table', { id: 'invocations-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Request id'), h('th', {}, 'Version'), h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Billed'), h('th', { class: 'num' }, 'Init'), h('th', {}, 'Result'))), table),
    logs,
  );
  let selected: string | undefined;
  const showLogs = async (inv: Invocation) => {
    selected = inv.requestId;
    renderInvocations(lastInvocations);
    const { lines } = await getJson<{ lines: Array<{ kind: string; message: string }> }>(`/functions/${name}/logs?requestId=${encodeURIComponent(inv.requestId)}`);
    clear(logs);
    logs.append(
      h('h2', {}, `Logs of ${inv.requestId}`, inv.traceId ? h('span', { class: 'muted' }, `  trace ${inv.traceId}`) : null),
      h('div', { class: 'logs' }, ...lines.map((l) => h('div', { class: l.kind === 'report' ? 'report' : /ERROR|Error/.test(l.message) ? 'err' : '' }, l.message))),
    );
  };
  let lastInvocations = detail.invocations;
  const renderInvocations = (list: Invocation[]) => {
    lastInvocations = list;
    clear(table);
    if (list.length === 0) table.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No invocations since the platform started.')));
    for (const inv of list) {
      table.append(
        h(
          'tr',
          { class: `clickable${inv.requestId === selected ? ' selected' : ''}`, 'data-request-id': inv.requestId, onclick: () => void showLogs(inv) },
          h('td', {}, fmtTime(inv.ts)),
          h('td', {}, inv.requestId),
          h('td', {}, inv.version),
          h('td', { class: 'num' }, fmtMs(inv.durationMs)),
          h('td', { class: 'num' }, `${inv.billedDurationMs} ms`),
          h('td', { class: 'num' }, inv.initDurationMs === undefined ? '' : fmtMs(inv.initDurationMs)),
          h('td', {}, inv.errorType ? h('span', { class: 'badge err' }, inv.errorType) : h('span', { class: 'badge warm' }, 'ok')),
        ),
      );
    }
  };
  renderInvocations(detail.invocations);

  const refresh = async () => {
    const [d, inv] = await Promise.all([getJson<Detail>(`/functions/${name}`), getJson<{ invocations: Invocation[] }>(`/functions/${name}/invocations`)]);
    renderFacts(d.function);
    renderColdStarts(d.coldStarts);
    renderInvocations(inv.invocations);
  };
  return {
    onTick: (batch) => {
      const p = batch[name];
      if (p) {
        points = [...points, p].slice(-900);
        draw();
      }
      quietly(refresh);
    },
    onFunctions: () => quietly(refresh),
    destroy: () => charts.forEach((c) => c.destroy()),
  };
}

// ---- cost ---------------------------------------------------------------------------------------

const RANGES: Array<[string, string]> = [['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days']];

async function costPage(): Promise<Page> {
  let range = '7d';
  const render = async () => {
    const report = await getJson<CostReport>(`/cost?since=${range}`);
    clear(app);
    app.append(h('h1', {}, 'Cost'));
    app.append(
      h('div', { class: 'ranges' }, ...RANGES.map(([r, label]) => h('button', { class: r === range ? 'on' : '', onclick: () => { range = r; void render(); } }, label))),
    );
    const total = report.total;
    app.append(
      h(
        'div',
        { class: 'totals', id: 'cost-totals' },
        h('div', { class: 'card' }, 'Requests', h('b', {}, fmtNumber(total.requests))),
        h('div', { class: 'card' }, 'GB-seconds (init included)', h('b', {}, fmtNumber(total.gbSeconds, 3))),
        h('div', { class: 'card' }, 'CPU-seconds used here', h('b', {}, fmtNumber(total.cpuSeconds, 2))),
        ...report.providers.map((p) => h('div', { class: 'card' }, p.name, h('b', {}, fmtUsd(total.costs[p.id] ?? 0)))),
      ),
    );
    app.append(
      h(
        'table',
        { id: 'cost-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Function'), h('th', {}, 'Version'), h('th', { class: 'num' }, 'Requests'), h('th', { class: 'num' }, 'Cold starts'), h('th', { class: 'num' }, 'Memory'),
          h('th', { class: 'num' }, 'GB-s'), h('th', { class: 'num' }, 'CPU-s here'), ...report.providers.map((p) => h('th', { class: 'num' }, p.id)))),
        h(
          'tbody',
          {},
          ...(report.functions.length === 0
            ? [h('tr', {}, h('td', { colspan: 7 + report.providers.length, class: 'muted' }, 'No usage in this period: idle functions cost nothing.'))]
            : report.functions.map((f) =>
                h('tr', {}, h('td', {}, f.functionName), h('td', {}, f.version), h('td', { class: 'num' }, fmtNumber(f.requests)), h('td', { class: 'num' }, fmtNumber(f.coldStarts)),
                  h('td', { class: 'num' }, `${f.memoryMb} MB`), h('td', { class: 'num' }, fmtNumber(f.gbSeconds, 3)), h('td', { class: 'num' }, fmtNumber(f.cpuSeconds, 2)),
                  ...report.providers.map((p) => h('td', { class: 'num' }, fmtUsd(f.costs[p.id] ?? 0)))),
              )),
        ),
      ),
    );
    app.append(
      h('p', { class: 'muted' }, `List prices in ${report.currency} from the price table of ${report.pricesUpdated}; free tiers ${report.freeTiers}. Idle (scaled-to-zero) functions cost nothing.`),
      h('ul', { class: 'muted' }, ...report.providers.map((p) => h('li', {}, `${p.name}: ${p.sources.join('; ')}${p.freeTier ? ` — free tier ${p.freeTier}` : ''}`))),
    );
  };
  try {
    await render();
  } catch (err) {
    if (err instanceof SignedOut) throw err;
    clear(app);
    app.append(h('h1', {}, 'Cost'), h('p', { class: 'error' }, (err as Error).message));
  }
  return {};
}

void start().catch((err: unknown) => {
  clear(app);
  app.append(h('p', { class: 'error' }, `cannot load the dashboard: ${(err as Error).message}`));
});
