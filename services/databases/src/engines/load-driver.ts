import type { CatalogSnapshot } from '../catalog.js';
import type { Engine } from '../servers-file.js';
import type { DriverOptions, EngineDriver } from './engine.js';
import type { ExecuteRequest, ExplainResult, QueryResult } from './results.js';

/** Each engine's driver module, imported on first use: it loads the engine's client package with it. */
const DRIVER_MODULES: Record<Engine, (options: DriverOptions) => Promise<EngineDriver>> = {
  postgres: async (options) => new (await import('./postgres.js')).PostgresDriver(options),
  mysql: async (options) => new (await import('./mysql.js')).MysqlDriver(options),
  mssql: async (options) => new (await import('./mssql.js')).MssqlDriver(options),
};

/**
 * A server's driver, its engine's module imported when the server is first used, not at start:
 * mssql with tedious alone was a third of the service's cold start and about 35 MB resident, loaded
 * whether or not any SQL Server was configured (README "Start-up"). Every call waits for the one
 * import, then goes to the real driver; close() before any use has nothing to close.
 */
export class LazyDriver implements EngineDriver {
  readonly engine: Engine;
  private loaded: Promise<EngineDriver> | undefined;

  constructor(
    private readonly options: DriverOptions,
    private readonly load: (options: DriverOptions) => Promise<EngineDriver> = DRIVER_MODULES[options.server.engine],
  ) {
    this.engine = options.server.engine;
  }

  private driver(): Promise<EngineDriver> {
    // A load that failed fails the calls waiting for it; the next call tries again.
    this.loaded ??= this.load(this.options).catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  async listDatabases(signal?: AbortSignal): Promise<string[]> {
    return (await this.driver()).listDatabases(signal);
  }

  async readCatalog(database: string, signal?: AbortSignal): Promise<CatalogSnapshot> {
    return (await this.driver()).readCatalog(database, signal);
  }

  async execute(request: ExecuteRequest): Promise<QueryResult> {
    return (await this.driver()).execute(request);
  }

  async explain(request: Omit<ExecuteRequest, 'maxRows' | 'maxBytes'>): Promise<ExplainResult> {
    return (await this.driver()).explain(request);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await (await this.driver()).ping(signal);
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    if (loaded === undefined) return;
    // A module that failed to load left no pool behind; its error was the first call's to report.
    const driver = await loaded.catch(() => undefined);
    await driver?.close();
  }
}
