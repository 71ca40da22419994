// First import: telemetry must hook http before anything loads it.
import './instrument';
import cluster from 'node:cluster';
import { ConfigError, createLogger, loadConfig, type Logger } from '@vtv/kit';
import { gatewayConfig, workerCount, type GatewayConfig } from './config';
import { createGateway } from './app';
import { clusterMetricsClient, runPrimary } from './cluster';

/**
 * GATEWAY_WORKERS=1: this process is the gateway. More (or 0, one per core): this process is the cluster
 * primary (cluster.ts) and each worker it forks runs this file again as a complete gateway on the same
 * port. Config is checked before anything is forked, so a bad variable exits 78 once, not per worker.
 */
async function main(): Promise<void> {
  const logger = createLogger('gateway');
  let config: GatewayConfig;
  try {
    config = loadConfig(gatewayConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`gateway: ${err.message}\n`);
    process.exit(78);
  }
  if (cluster.isWorker) return serve(config, logger.child({ worker: cluster.worker!.id }), true);
  const workers = workerCount(config);
  if (workers === 1) return serve(config, logger, false);
  if (!config.REDIS_URL)
    logger.warn('no REDIS_URL: each worker keeps its own rate-limit counters, so every limit is per worker');
  runPrimary({ workers, logger, graceMs: config.SHUTDOWN_GRACE_MS });
}

async function serve(config: GatewayConfig, logger: Logger, inCluster: boolean): Promise<void> {
  try {
    // A worker's /metrics is the whole cluster's, gathered by the primary; set before listening, because
    // the primary asks only listening workers for their registries.
    let clusterMetrics: (() => Promise<string>) | undefined;
    const gateway = await createGateway({
      config,
      logger,
      ...(inCluster ? { metricsText: () => clusterMetrics!() } : {}),
    });
    if (inCluster) clusterMetrics = clusterMetricsClient(gateway.metrics.registry);
    const url = await gateway.listen();
    logger.info({ url }, inCluster ? 'gateway worker ready' : 'gateway ready');
    let stopping: Promise<void> | undefined;
    // Once: on Ctrl-C a worker gets SIGINT from the terminal and SIGTERM from the primary.
    const stop = () => (stopping ??= gateway.stop().then(() => process.exit(0)));
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop());
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}

void main();
