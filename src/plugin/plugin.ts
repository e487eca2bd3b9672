/**
 * The plugin contract: the only way a host grows. A plugin declares the interfaces it serves to
 * components (`imports`, from the component's point of view) and those it calls on components
 * (`exports`, e.g. a message handler), and the host drives it through the lifecycle hooks below.
 *
 * Implementations follow jco's JavaScript conventions (DESIGN.md): functions in camelCase,
 * resources as classes, records as objects, variants as `{tag, val}`, `option` as value or
 * `undefined`, and a `result` error thrown as its plain payload (throwing an `Error` instance
 * traps the guest instead). Any function may be async: JSPI makes it blocking for the guest.
 */
import type { Logger } from 'pino';
import type { WitInterface } from '../workload/types.ts';
import { parseWitInterface } from '../workload/wit-interface.ts';

export type { Logger, WitInterface };

/** An interface a plugin serves or calls: `wasi:keyvalue/store,atomics@0.2.0-draft` as data. */
export type PluginInterface = Pick<WitInterface, 'namespace' | 'package' | 'interfaces' | 'version'>;

/** `pluginInterface('wasi:keyvalue/store,atomics,batch@0.2.0-draft')`: the declaration form. */
export function pluginInterface(text: string): PluginInterface {
  const { namespace, package: pkg, interfaces, version } = parseWitInterface(text);
  return { namespace, package: pkg, interfaces, version };
}

/**
 * What `onComponentBind` returns: interface name (`wasi:keyvalue/store@0.2.0-draft`, any version
 * or none) to the functions and resource classes of that interface.
 */
export type Implementations = Record<string, Record<string, unknown>>;

type MaybePromise<T> = T | Promise<T>;

/** What a plugin learns when the host starts it. */
export interface PluginStartContext {
  hostId: string;
  /** The host's logger, with a `plugin` field set. */
  logger: Logger;
}

/** A workload as a plugin sees it at bind time. */
export interface PluginWorkload {
  /** The id the workload was started with: unique on this host while it runs. */
  id: string;
  namespace: string;
  name: string;
  annotations: Readonly<Record<string, string>>;
  /** The workload's host interfaces this plugin serves or calls, each with its `config` map. */
  interfaces: readonly WitInterface[];
  /** A logger with `workload` fields set. */
  logger: Logger;
}

/** One component (or the service) of a workload, as a plugin sees it at bind time. */
export interface PluginComponent {
  workload: PluginWorkload;
  /** The component's name in its workload; the service is called `service`. */
  name: string;
  /** `localResources.config` of the component. */
  config: Readonly<Record<string, string>>;
  /** `localResources.environment` of the component (the guest's whole environment). */
  environment: Readonly<Record<string, string>>;
  /** `localResources.allowedHosts`: where its outgoing network requests may go. */
  allowedHosts: readonly string[];
  /** The host interfaces this component needs that this plugin serves, with their config. */
  interfaces: readonly WitInterface[];
  /** Everything the component imports and exports, as versioned names. */
  imports: readonly string[];
  exports: readonly string[];
  /** A logger with `workload` and `component` fields set. */
  logger: Logger;
}

/**
 * An invocation: an instance of a component (fresh, or a warm one from the component's pool when
 * it has `poolSize`), its linked components instantiated on demand.
 */
export interface Invocation {
  /** Calls an export: `wasmcloud:messaging/handler@0.2.0#handle-message`, or a world function. */
  call(target: string, ...args: unknown[]): Promise<unknown>;
  /**
   * Done with it: a pooled instance goes back to its pool unless it trapped, exited or used up
   * `maxInvocations`; otherwise its instances are dropped and their WASI contexts released.
   */
  close(): Promise<void>;
  /** Done with it, and never reuse it (it timed out, or its state is suspect). */
  discard(): Promise<void>;
  /** Whether a guest of it is suspended only until its next time slice: busy, not waiting for anything. */
  readonly awaitingTurn: boolean;
}

/** A workload whose components are compiled, bound and linked: trigger plugins start here. */
export interface ResolvedWorkload extends PluginWorkload {
  components: readonly PluginComponent[];
  /** An invocation of one component, per message or request (fresh, or warm from its pool). */
  instantiate(component: string, options?: { timeoutMs?: number }): Promise<Invocation>;
  /** `instantiate`, one `call`, then `close`, whatever the call does. */
  invoke(component: string, target: string, ...args: unknown[]): Promise<unknown>;
}

/** The workload `onWorkloadUnbind` hears about: as it was bound, and whether replicas remain. */
export interface PluginUnbind extends PluginWorkload {
  /**
   * No other workload of the same `namespace/name` is bound to this plugin on this host any more:
   * what replicas of one workload share (an in-memory store) may go now.
   */
  readonly lastReplica: boolean;
}

/**
 * A plugin: the interfaces it serves and calls, and its lifecycle (Spin's factors and
 * wash-runtime's hooks). It keeps no bookkeeping of workloads: what it needs per workload it
 * returns from `onWorkloadBind` (its `State`), the host keeps it with the workload and hands it back
 * to every later hook of that workload, and drops it after `onWorkloadUnbind`. So an unbind cannot
 * forget anything, and the hooks read as functions of their inputs.
 */
export interface Plugin<State = unknown> {
  /** Unique per host (`wasi-keyvalue`, `my-company-audit`). */
  readonly id: string;
  /** Interfaces the plugin provides to components. */
  readonly imports: readonly PluginInterface[];
  /** Interfaces the plugin calls on components (triggers). */
  readonly exports?: readonly PluginInterface[];
  /**
   * Serve these interfaces to every component that imports (or exports) them, whether or not its
   * workload declares them, as WASI is (the HTTP server's `wasi:http`). Such a plugin is also
   * bound to a workload that declares one of its interfaces while no component uses it, so that it
   * can refuse the workload.
   */
  readonly servesUndeclared?: boolean;
  /** A plugin that listens on a port (the HTTP server): the host's heartbeat reports it as `httpPort`. */
  readonly port?: number;

  start?(context: PluginStartContext): MaybePromise<void>;
  /**
   * Once per workload that needs one of the plugin's interfaces, before any component bind:
   * checks the workload's config and answers the plugin's state for this workload (undefined
   * when it needs none).
   */
  onWorkloadBind?(workload: PluginWorkload): MaybePromise<State>;
  /** Once per component that needs one of the plugin's interfaces: its implementations. */
  onComponentBind?(component: PluginComponent, state: State): MaybePromise<Implementations | void>;
  /** Every component is bound and linked; trigger plugins subscribe here and invoke components. */
  onWorkloadResolved?(workload: ResolvedWorkload, state: State): MaybePromise<void>;
  /**
   * The workload stopped, or its start failed after `onWorkloadBind` succeeded: called once, with
   * the state that bind answered. Release what the state holds.
   */
  onWorkloadUnbind?(workload: PluginUnbind, state: State): MaybePromise<void>;
  /** The host is stopping (every workload is unbound by then); the host waits a bounded time, then goes on. */
  stop?(): MaybePromise<void>;
}
