import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { queryFunctions, preparedFunctions, type ComponentScope } from './calls.ts';
import { postgresDatabase } from './config.ts';
import { parseConnectionUrl } from './connection.ts';
import { PostgresCallError } from './errors.ts';
import { DatabasePools, type PoolInfo } from './pools.ts';
import { PreparedStatements } from './statements.ts';

export interface PostgresPluginOptions {
  /**
   * The server, credentials and TLS settings (`sslmode`) as a connection string:
   * `postgres://user:password@host:5432[/database][?sslmode=require]`. Its database, if any, is
   * the default for workloads whose config names none; `pool_size` there is read as `poolSize`.
   * The URL never appears in messages.
   */
  url: string;
  /** Default `wasmcloud-postgres` (the reference's id). */
  id?: string;
  /** Connections per database; default `pool_size` from the URL, else 10 (the reference's default). */
  poolSize?: number;
  /** The server cancels a statement running longer than this (`statement_timeout`); 0 = never; default 60 s. */
  statementTimeoutMs?: number;
  /** How long a call waits for a connection (a new one, or a free one of a busy pool); default 10 s. */
  connectTimeoutMs?: number;
  /** An idle connection is closed after this long; default 10 s. */
  idleTimeoutMs?: number;
  /** Distinct prepared statements per component; default 1000. */
  maxPreparedStatements?: number;
  /** How long a database's pool outlives the last workload using it; default 5 s (as the reference). */
  poolGraceMs?: number;
  /** `application_name` of the connections, unless the URL sets one; default `wasmhost`. */
  applicationName?: string;
}

/** What the plugin keeps per workload (held by the host): its databases and prepared statements. */
export interface PostgresWorkloadState {
  /** The databases its components use, each holding that database's pool once. */
  databases: Set<string>;
  statements: PreparedStatements[];
  live: boolean;
}

/** The plugin, plus a view of its pools. */
export interface PostgresPlugin extends Plugin<PostgresWorkloadState> {
  /** The pools open now, one per database. */
  pools(): PoolInfo[];
}

const VERSION = '0.1.1-draft';
const QUERY = `wasmcloud:postgres/query@${VERSION}`;
const PREPARED = `wasmcloud:postgres/prepared@${VERSION}`;
/** Only types: nothing to implement, but served so that the component links. */
const TYPES = `wasmcloud:postgres/types@${VERSION}`;

/**
 * `wasmcloud:postgres/types,query,prepared@0.1.1-draft` over one PostgreSQL server. The workload's
 * config `database` picks the database; each database has one pool, shared by the workloads that
 * use it. Parameters are always bound, never spliced into SQL.
 */
export function postgresPlugin(options: PostgresPluginOptions): PostgresPlugin {
  const id = options.id ?? 'wasmcloud-postgres';
  const connection = parseConnectionUrl(id, options.url);
  const pools = new DatabasePools(
    connection,
    {
      max: positive(id, 'poolSize', options.poolSize ?? connection.poolSize ?? 10),
      statementTimeoutMs: nonNegative(id, 'statementTimeoutMs', options.statementTimeoutMs ?? 60_000),
      connectTimeoutMs: positive(id, 'connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
      idleTimeoutMs: positive(id, 'idleTimeoutMs', options.idleTimeoutMs ?? 10_000),
      applicationName: options.applicationName ?? 'wasmhost',
    },
    nonNegative(id, 'poolGraceMs', options.poolGraceMs ?? 5000),
  );
  const maxPreparedStatements = positive(id, 'maxPreparedStatements', options.maxPreparedStatements ?? 1000);

  return {
    id,
    imports: [pluginInterface(`wasmcloud:postgres/types,query,prepared@${VERSION}`)],

    start(context) {
      pools.logger = context.logger;
    },

    onWorkloadBind(workload): PostgresWorkloadState {
      postgresDatabase(id, workload.interfaces, connection.defaultDatabase);
      return { databases: new Set(), statements: [], live: true };
    },

    onComponentBind(component, state): Implementations {
      const database = postgresDatabase(id, component.interfaces, connection.defaultDatabase);
      const statements = new PreparedStatements(maxPreparedStatements);
      state.statements.push(statements);
      if (!state.databases.has(database)) {
        state.databases.add(database);
        pools.use(database);
      }
      const logger = component.logger.child({ database });
      const scope: ComponentScope = {
        database,
        statements,
        maxPreparedStatements,
        logger,
        context() {
          // A call still running after its workload stopped must not bring its pool back.
          if (!state.live) throw new PostgresCallError('unexpected', 'the workload is no longer running');
          try {
            return { pool: pools.pool(database), database, logger };
          } catch (err) {
            throw new PostgresCallError('unexpected', 'the host is stopping', { cause: err });
          }
        },
      };
      return { [QUERY]: queryFunctions(scope), [PREPARED]: preparedFunctions(scope), [TYPES]: {} };
    },

    onWorkloadUnbind(_workload, state) {
      if (!state.live) return;
      state.live = false;
      for (const statements of state.statements.splice(0)) statements.clear();
      for (const database of state.databases) pools.release(database);
    },

    async stop() {
      await pools.close();
    },

    pools: () => pools.info(),
  };
}

function positive(id: string, name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${id}: ${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(id: string, name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${id}: ${name} must be a non-negative integer, got ${value}`);
  return value;
}
