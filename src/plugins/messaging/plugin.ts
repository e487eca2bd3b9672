import { pluginInterface, type Plugin, type PluginComponent, type ResolvedWorkload } from '../../plugin/plugin.ts';
import type { BrokerMessage, MessagingBackend, Subscription } from './backend.ts';
import { InMemoryBroker } from './backends/memory.ts';
import { messagingBackends } from './backends/registry.ts';
import { BackendChoice, type BackendRegistry, type BackendResources } from '../shared/backends.ts';
import { backendSetting } from './config.ts';
import { consumerFunctions } from './consumer.ts';
import { MessageDispatcher } from './dispatcher.ts';
import { queueGroupName } from './queue-group.ts';
import { exportsHandler, subscriptionSubjects } from './subscriptions.ts';

export interface MessagingPluginOptions {
  /** Where messages go: an instance, or a type of `registry` made with `resources`. Default: a new `InMemoryBroker`. */
  backend?: MessagingBackend | string;
  /**
   * Whether `stop` closes a backend given as an instance. Default: true for the plugin's own
   * broker, false for a given one. Backends made by type are the plugin's: always closed (a
   * NATS broker made so leaves the host's connection open).
   */
  ownsBackend?: boolean;
  /**
   * What the backends a workload names by type (config `backend`), or `backend` given by type,
   * are made with; default none (then only `memory` can be chosen).
   */
  resources?: BackendResources;
  /** Where backend types are looked up; default `messagingBackends`. */
  registry?: BackendRegistry<MessagingBackend>;
  /** Messages of one subscription handled at the same time, each in its own instance. Default 64. */
  maxConcurrentMessages?: number;
  /** Messages of one subscription waiting for a free slot; more are dropped with a warning. Default 10,000. */
  maxQueuedMessages?: number;
}

const CONSUMER = 'wasmcloud:messaging/consumer@0.2.0';
/** Only a record type: nothing to implement, but served so that the component links. */
const TYPES = 'wasmcloud:messaging/types@0.2.0';
const HANDLER = 'wasmcloud:messaging/handler@0.2.0';
const HANDLE_MESSAGE = `${HANDLER}#handle-message`;

interface ActiveSubscription {
  subscription: Subscription;
  dispatcher: MessageDispatcher;
}

/** What the plugin keeps per workload (held by the host): its backend and the subscriptions of its handlers. */
export interface MessagingWorkloadState {
  readonly backend: MessagingBackend;
  subscriptions: ActiveSubscription[];
}

/**
 * Serves `wasmcloud:messaging/consumer` to components and, as a trigger, calls the
 * `wasmcloud:messaging/handler` of every component that exports it for each message on the
 * subjects of its host interface's `subscriptions`: each message in a fresh instance, many at once.
 * The subscriptions join a queue group named after the workload and component
 * (`queueGroupName`), so every host running the same workload on a shared broker takes a share of
 * the messages, and each message is handled once. A workload's config `backend: nats` puts its
 * messages on another backend of the registry than the host's, made once on first use.
 */
export function messagingPlugin(options: MessagingPluginOptions = {}): Plugin<MessagingWorkloadState> {
  const limits = {
    maxInFlight: positive(options.maxConcurrentMessages ?? 64, 'maxConcurrentMessages'),
    maxQueued: nonNegative(options.maxQueuedMessages ?? 10_000, 'maxQueuedMessages'),
  };
  const ownsDefault = options.ownsBackend ?? options.backend === undefined;
  const backends = new BackendChoice(
    'wasmcloud-messaging',
    options.registry ?? messagingBackends,
    options.resources ?? {},
    options.backend ?? new InMemoryBroker(),
    ownsDefault,
  );

  function unsubscribeWorkload(state: MessagingWorkloadState): void {
    for (const { subscription, dispatcher } of state.subscriptions.splice(0)) {
      subscription.unsubscribe();
      dispatcher.close();
    }
  }

  function subscribe(backend: MessagingBackend, workload: ResolvedWorkload, component: PluginComponent, subject: string, queue: string): ActiveSubscription {
    const dispatcher = new MessageDispatcher(
      (msg) => handleMessage(workload, component, msg),
      limits,
      (msg) => component.logger.warn({ subject: msg.subject, maxQueued: limits.maxQueued }, 'message dropped: the handler queue is full'),
    );
    const subscription = backend.subscribe(subject, (msg) => dispatcher.push(msg), { queue });
    return { subscription, dispatcher };
  }

  return {
    id: 'wasmcloud-messaging',
    imports: [pluginInterface('wasmcloud:messaging/consumer,types@0.2.0')],
    exports: [pluginInterface(HANDLER)],

    onWorkloadBind(workload): MessagingWorkloadState {
      return { backend: backends.forWorkload(workload, 'wasmcloud:messaging', backendSetting(workload.interfaces)), subscriptions: [] };
    },

    onComponentBind(_component, state) {
      return { [CONSUMER]: consumerFunctions(state.backend), [TYPES]: {} };
    },

    onWorkloadResolved(workload, state) {
      unsubscribeWorkload(state); // resolved again: never subscribe twice
      // Every component's subjects are checked before the first subscription is made.
      const plans = workload.components.filter(exportsHandler).map((c) => ({ component: c, subjects: subscriptionSubjects(c) }));
      const { backend, subscriptions } = state;
      try {
        for (const { component, subjects } of plans) {
          if (subjects.length === 0) component.logger.warn(`exports ${HANDLER} but its host interface has no subscriptions`);
          const queue = queueGroupName(workload.namespace, workload.name, component.name);
          for (const subject of subjects) subscriptions.push(subscribe(backend, workload, component, subject, queue));
          if (subjects.length > 0) component.logger.debug({ subjects, queue }, 'subscribed');
        }
      } catch (error) {
        unsubscribeWorkload(state);
        throw error;
      }
    },

    onWorkloadUnbind(_workload, state) {
      unsubscribeWorkload(state);
    },

    async stop() {
      // Every workload is unbound by now (the host stops them first): nothing of theirs is left here.
      await backends.close();
    },
  };
}

/** One message, one invocation. A returned error or a trap is logged; it never ends the subscription. */
async function handleMessage(workload: ResolvedWorkload, component: PluginComponent, msg: BrokerMessage): Promise<void> {
  try {
    await workload.invoke(component.name, HANDLE_MESSAGE, { subject: msg.subject, body: msg.body, replyTo: msg.replyTo });
  } catch (error) {
    // jco throws a guest's `err` value as an Error carrying it in `payload`.
    if (error instanceof Error && 'payload' in error) {
      component.logger.error({ subject: msg.subject, error: String(error.payload) }, 'message handler returned an error');
    } else {
      component.logger.error({ subject: msg.subject, err: error }, 'message handler failed');
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`messagingPlugin: ${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`messagingPlugin: ${name} must be a non-negative integer, got ${value}`);
  return value;
}
