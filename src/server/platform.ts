import { join } from 'node:path';
import type { Logger } from 'pino';
import { BundleCache } from '../artifacts/bundle-cache.js';
import { DEFAULT_BUNDLE_LIMITS } from '../artifacts/limits.js';
import type { BundleLimits } from '../artifacts/limits.js';
import { FileBlobStore } from '../backends/files/file-blob-store.js';
import { FileLogStore } from '../backends/files/file-log-store.js';
import { SqliteRegistryStore } from '../backends/sqlite/registry-store.js';
import { Deployer } from '../registry/deployer.js';
import { Registry } from '../registry/registry.js';
import type { RegistryChange } from '../registry/store.js';
import { ModelDispatcher } from '../models/batching/model-dispatcher.js';
import { EventsModule } from '../events/events-module.js';
import { ModelRuntime } from '../runtimes/model/model-runtime.js';
import { NodejsRuntime } from '../runtimes/nodejs/nodejs-runtime.js';
import { StemCells } from '../runtimes/stem-cells/stem-cells.js';
import { ProvidedRuntime } from '../runtimes/provided/provided-runtime.js';
import { PythonRuntime } from '../runtimes/python/python-runtime.js';
import { RuntimeRegistry } from '../runtimes/runtime-registry.js';
import { Sandbox } from '../runtimes/sandbox/sandbox.js';
import { configureInstanceScheduling } from '../runtimes/process/instance-scheduling.js';
import { InstanceLauncher } from '../scheduler/instance-launcher.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/logger.js';
import { AdminSurface } from '../surfaces/admin/admin-surface.js';
import { createLambdaApi } from '../surfaces/lambda-api/index.js';
import { FunctionUrlSurface } from '../surfaces/function-urls/function-url-surface.js';
import { provisionedFloors, qualifierVersions } from '../registry/provisioned.js';
import { CodeLinks } from '../auth/code-links.js';
import type { KeyStore } from '../auth/access-keys.js';
import { setUpAuth } from './auth-setup.js';
import { currentPrincipal } from '../auth/principal-context.js';
import { OipSurface } from '../surfaces/oip/oip-surface.js';
import { V1Surface } from '../surfaces/v1/v1-surface.js';
import { RoutesSurface } from '../surfaces/routes/routes-surface.js';
import type { PlatformConfig } from './config.js';
import { layoutOf, lockDataDir } from './data-dir.js';
import { Gateway } from './gateway.js';
import { MODELFN_VERSION } from './version.js';
import { createDashboard } from '../dashboard/dashboard.js';
import { MetricsSurface } from '../surfaces/metrics/metrics-surface.js';
import { registerMeteringApi } from '../telemetry/metering/metering-api.js';
import { loadPriceTable } from '../telemetry/metering/pricing.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { registerClusterApi } from '../cluster/cluster-api.js';
import type { UsageRow } from '../telemetry/metering/usage.js';

/**
 * Process wiring for one modelfn node: the embedded default (SQLite + files), or with
 * `config.cluster` a node of a cluster whose shared state lives in NATS JetStream (docs/cluster.md).
 * No logic lives here: it builds the parts, connects them, and stops them in order.
 */
export class Platform {
  private constructor(
    readonly config: PlatformConfig,
    readonly url: string,
    readonly log: Logger,
    readonly registry: Registry,
    readonly deployer: Deployer,
    readonly scheduler: Scheduler,
    readonly gateway: Gateway,
    readonly keys: KeyStore,
    readonly credentialsFile: string,
    readonly awsConfigFile: string,
    private readonly closers: Array<() => Promise<void> | void>,
    /** Cluster mode only. */
    readonly cluster?: ClusterNode,
    /** How instances are isolated (bubblewrap, or none: the start-up banner says which and why). */
    readonly sandbox: Sandbox = Sandbox.none(),
  ) {}

  static async start(config: PlatformConfig, clock: Clock = systemClock, log: Logger = createLogger(config.logLevel)): Promise<Platform> {
    const layout = layoutOf(config.dataDir);
    let urlRef = '';
    // Each part registers its closer as soon as it exists; stop() runs them newest first.
    const closers: Array<() => Promise<void> | void> = [await lockDataDir(layout.root)];
    try {
      // Decided first: without a sandbox (and without --allow-unsandboxed) the platform does not start.
      const sandbox = await Sandbox.open({ mode: config.sandbox, allowUnsandboxed: config.allowUnsandboxed, ...(config.bwrapPath ? { bwrap: config.bwrapPath } : {}) });
      // Closed last of all (closers run newest first): its cgroups go once every instance has.
      closers.push(() => sandbox.close());
      if (sandbox.enabled) log.info({ sandbox: sandbox.description, memory: sandbox.memory }, 'instances run sandboxed');
      else log.warn({ sandbox: sandbox.description }, 'instances run WITHOUT a sandbox');
      const scheduling = configureInstanceScheduling(config.instanceScheduling);
      if (scheduling.scheduling === config.instanceScheduling) log.info({ scheduling: scheduling.scheduling }, scheduling.detail);
      else log.warn({ scheduling: scheduling.scheduling, wanted: config.instanceScheduling }, scheduling.detail);
      const limits: BundleLimits = { ...DEFAULT_BUNDLE_LIMITS, maxZippedBytes: config.maxBundleBytes, maxUnpackedBytes: config.maxUnpackedBytes };
      // Cluster mode: shared stores in JetStream; the connection closes after everything else.
      const cluster = config.cluster
        ? await ClusterNode.connect(
            {
              servers: config.cluster,
              replicas: config.clusterReplicas,
              leaseMs: config.clusterLeaseMs,
              heartbeatMs: config.clusterHeartbeatMs,
              dataDir: layout.root,
              version: MODELFN_VERSION,
              recordRetentionDays: config.recordRetentionDays,
              meteringRetentionDays: config.meteringRetentionDays,
              maxQueueWaitMs: config.maxQueueWaitMs,
              initTimeoutMs: config.initTimeoutMs,
            },
            log,
          )
        : undefined;
      if (cluster) closers.push(() => cluster.close());
      const store = cluster ? cluster.registry : new SqliteRegistryStore(layout.registryDb);
      closers.push(() => store.close());
      const logs = await FileLogStore.open(layout.logs, {
        maxAgeMs: config.logRetentionDays * 86_400_000,
        maxBytesPerFunction: config.logMaxMbPerFunction * 1024 * 1024,
      });
      closers.push(() => logs.close());
      const blobs = cluster ? cluster.blobs : new FileBlobStore(layout.blobs);
      const bundles = new BundleCache(layout.unpacked, blobs, limits);
      await bundles.recover();

      // Stem cells of every runtime share one switch and one memory budget.
      const stemCells = new StemCells({ enabled: config.stemCells, budgetMb: config.stemCellMemoryMb });
      const python = new PythonRuntime({
        python: config.python,
        preload: config.pythonPreload,
        zygote: config.pythonZygote,
        workDir: join(layout.root, 'runtimes', 'python'),
        log: (level, message) => log[level](message),
        stemCells,
        sandbox,
        cellsDir: join(layout.instances, '.cells'),
      });
      // Registered before the scheduler: stopped after it (closers run newest first).
      closers.push(() => python.close());
      // Zero-code models: its spare hosts stop after the scheduler's instances.
      const modelRuntime = new ModelRuntime({ stemCells, sandbox, cellsDir: join(layout.instances, '.cells') });
      closers.push(() => modelRuntime.close());
      const nodejs = new NodejsRuntime({ stemCells, stemCellsPerSize: config.nodeStemCells, sandbox, cellsDir: join(layout.instances, '.cells') });
      closers.push(() => nodejs.close());
      const runtimes = new RuntimeRegistry().register(nodejs).register(python).register(new ProvidedRuntime({ sandbox })).register(modelRuntime);
      const launcher = new InstanceLauncher(runtimes, bundles, layout.instances, config.region, config.initTimeoutMs, sandbox.enabled);
      await launcher.recover();
      const scheduler = new Scheduler({
        clock,
        launcher,
        logs,
        memoryBudgetMb: config.memoryBudgetMb,
        accountConcurrency: config.accountConcurrency,
        minUnreservedConcurrency: config.minUnreservedConcurrency,
        defaultKeepAliveSec: config.defaultKeepAliveSec,
        maxQueueLength: config.maxQueueLength,
        maxQueueWaitMs: config.maxQueueWaitMs,
        reapIntervalMs: config.reapIntervalMs,
        eagerInstances: config.eagerInstances,
        pipelineDepth: config.pipelineDepth,
        pipelineWaitMs: config.pipelineWaitMs,
        maxConcurrentStarts: config.maxConcurrentStarts,
        maxResponseBytes: config.maxSyncPayloadBytes,
        defaultKeepAlivePolicy: config.defaultKeepAlivePolicy,
        warmMemoryBudget: config.warmMemoryBudget ? (config.warmMemoryCapMb > 0 ? { capMb: config.warmMemoryCapMb } : {}) : false,
      });
      closers.push(() => scheduler.shutdown(config.drainTimeoutMs));
      const registry = new Registry(store, { region: config.region, accountId: config.accountId });
      await registry.load();
      closers.push(() => registry.close());
      registry.on('change', (change: RegistryChange) => {
        scheduler.onFunctionChanged(change.name, (version) => {
          const doc = registry.get(change.name);
          const versionConfig = doc && registry.versionConfig(doc, version);
          if (!doc || !versionConfig) return undefined;
          return { config: versionConfig, scaling: doc.scaling, invokedFunctionArn: registry.resolve(change.name, version === '$LATEST' ? undefined : version).invokedFunctionArn };
        });
      });

      // Model functions: validation, dynamic batching and the model request formats sit between
      // every surface and the scheduler; other functions pass through untouched.
      // Cluster mode: local capacity first, else another node; stops taking forwarded calls first.
      const local = cluster ? await cluster.join(scheduler, registry) : scheduler;
      if (cluster) closers.push(() => cluster.leave());
      const models = new ModelDispatcher(local, clock);
      // Event-driven features (async invocations, queues, schedules, batch jobs) over events.db;
      // stopped before the scheduler (closers run newest first).
      const events = await EventsModule.start({ settings: config, dataDir: layout.root, registry, dispatcher: models, blobs, clock, log, ...(cluster ? { backends: cluster.eventBackends(registry) } : {}) });
      closers.push(() => events.stop(config.drainTimeoutMs));
      registry.on('change', (change: RegistryChange) => {
        if (!registry.get(change.name)) models.forget(change.name);
      });
      // Stem cells for what is deployed: a spare host per kind of model, Node.js processes per memory size.
      for (const doc of registry.list()) {
        if (doc.latest.model) modelRuntime.prime(doc.latest.model.format, doc.latest.memoryMb);
        else if (nodejs.identifiers.includes(doc.latest.runtime)) nodejs.prime(doc.latest.memoryMb);
      }
      let accepting = true;
      const auth = await setUpAuth(config, process.env, clock, log, cluster ? (fromEnv) => cluster.openKeys(fromEnv) : undefined);
      closers.push(() => auth.keys.close());
      const routes = new RoutesSurface({ registry, dispatcher: models, clock, maxRequestBytes: config.maxSyncPayloadBytes, authenticator: auth.authenticator });
      const codeLinks = new CodeLinks();
      let reserved: readonly string[] = [];
      const deployer = new Deployer(registry, blobs, bundles, runtimes, limits, () => reserved, clock);
      const lambdaApi = createLambdaApi({
        registry,
        dispatcher: models,
        deployer,
        authenticator: auth.authenticator,
        maxSyncPayloadBytes: config.maxSyncPayloadBytes,
        maxZipBytes: config.maxBundleBytes,
        maxUnpackedBytes: config.maxUnpackedBytes,
        accountConcurrency: config.accountConcurrency,
        minUnreserved: config.minUnreservedConcurrency,
        codeLocation: (sha256) => `${urlRef}/_modelfn/v1/bundles/${sha256}?${codeLinks.sign(sha256)}`,
        provisionedStatus: (name, qualifier) => {
          const statuses = qualifierVersions(registry, name, qualifier).map((v) => scheduler.provisionedStatus(name, v));
          const failure = statuses.find((s) => s.failure)?.failure;
          return {
            allocated: statuses.reduce((n, s) => n + s.allocated, 0),
            available: statuses.reduce((n, s) => n + s.available, 0),
            ...(failure ? { failure } : {}),
          };
        },
      });
      const urls = new FunctionUrlSurface({ registry, dispatcher: models, clock, maxRequestBytes: config.maxSyncPayloadBytes, authenticator: auth.authenticator });
      const oip = new OipSurface({ registry, models, maxRequestBytes: config.maxSyncPayloadBytes, version: MODELFN_VERSION, accepting: () => accepting, authenticator: auth.authenticator });
      const v1 = new V1Surface({ registry, models, maxRequestBytes: config.maxSyncPayloadBytes, authenticator: auth.authenticator });
      // User routes may not use the prefixes of the platform's own surfaces.
      reserved = ['/_modelfn', ...lambdaApi.prefixes, ...urls.prefixes, '/2018-06-01', ...v1.prefixes, ...oip.prefixes, '/metrics', '/ui'];
      // Cluster mode: log queries merge every node's logs (each node writes its own).
      const queryLogs = cluster ? cluster.logs(logs) : logs;
      const admin = new AdminSurface({
        registry,
        deployer,
        scheduler,
        logs: queryLogs,
        maxBundleBytes: config.maxBundleBytes,
        version: MODELFN_VERSION,
        authenticator: auth.authenticator,
        codeLinks,
        keys: auth.keys,
        stemCells: () => stemCells.stats(),
      });
      // Provisioned concurrency: the scheduler keeps the floors the registry asks for.
      const applyProvisioned = () => scheduler.applyProvisioned(provisionedFloors(registry));
      registry.on('change', applyProvisioned);
      applyProvisioned();
      // Observability: metrics, metering and the dashboard's live charts, fed by the scheduler's
      // events off the request path (MODELFN_TELEMETRY=off leaves logs and tracing only).
      const telemetry = new Telemetry({
        enabled: config.telemetry,
        scheduler,
        registry,
        clock,
        meteringDb: join(layout.root, 'metering.db'),
        prices: loadPriceTable(config.pricesFile),
        meteringRetentionDays: config.meteringRetentionDays,
        maxSeries: config.metricsMaxSeries,
        batches: () => registry.list().flatMap((doc) => models.stats.forFunction(doc.name)),
        // Cluster mode: usage goes to a JetStream stream that every node applies to its metering.db.
        ...(cluster ? { meteringSink: (rows: UsageRow[]) => cluster.metering.publish(rows) } : {}),
      });
      closers.push(() => telemetry.close());
      if (cluster && telemetry.metering) {
        await cluster.metering.replicate(telemetry.metering.store);
        closers.push(() => cluster.metering.close());
      }
      // A tenant's key sees the usage of the functions it can see; admins (and no auth) see all.
      registerMeteringApi(admin, () => telemetry.metering, (name) => {
        const principal = currentPrincipal();
        return principal === undefined || principal.admin || registry.get(name) !== undefined;
      });
      if (cluster) registerClusterApi(admin, cluster);
      // The dashboard takes the same credentials as the API (none with --auth none).
      const dashboardKeys = auth.authenticator ? auth.keys : undefined;
      const dashboard = createDashboard({ registry, scheduler, logs: queryLogs, metering: () => telemetry.metering, keys: dashboardKeys, version: MODELFN_VERSION, observe: config.telemetry });
      closers.push(() => dashboard.close());
      const metrics = new MetricsSurface(() => telemetry.metrics);
      events.mount(admin, lambdaApi);
      const gateway = new Gateway([admin, lambdaApi, urls, oip, v1, metrics, dashboard.surface], routes, log);

      const address = await gateway.listen(config.port, config.host);
      closers.push(() => gateway.drain(config.drainTimeoutMs));
      closers.push(() => {
        accepting = false;
      });
      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      const url = `http://${host}:${address.port}`;
      urlRef = url;
      cluster?.announce(url);
      log.info({ url, dataDir: layout.root, memoryBudgetMb: config.memoryBudgetMb, version: MODELFN_VERSION }, 'modelfn started');
      return new Platform(config, url, log, registry, deployer, scheduler, gateway, auth.keys, auth.credentialsFile, auth.configFile, closers, cluster, sandbox);
    } catch (err) {
      for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
      throw err;
    }
  }

  /** Graceful stop: no new requests, in-flight ones finish (up to the drain timeout), then everything closes. */
  async stop(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.log.warn({ err }, 'error while stopping');
      }
    }
  }
}
