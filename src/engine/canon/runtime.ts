/**
 * Instantiates a compiled component any number of times: each instance is an instance group
 * (group.ts) bound to its host functions and limiter, whose exports are handed out in jco's
 * shapes.
 *
 * An instance is released (`RELEASE`, called by `Instance.close`) when its invocation ends. Once
 * no call into it is running or suspended either, it can never run again, and its group serves
 * the plan's next instance: restored whole when it can be (restore.ts: no new core instance at
 * all), else as a shell (the trampolines, contexts and handle tables around new core instances,
 * on recycled memories). Why the shell: a core instance is collected only by a full GC, and
 * until then keeps its imports and all they reach alive; per-instance adapters were promoted
 * out of the young generation by the thousand under load (most of a fresh instance's GC time,
 * measured). A group whose call failed (trap, limit, exit) is only ever reused as a shell.
 */
import type { ImportObject } from '../component.ts';
import { RELEASE } from '../instance.ts';
import type { Limiter } from '../limits/limiter.ts';
import type { Blueprint } from './blueprint.ts';
import { InstanceGroup, type Lifetime } from './group.ts';

/** Idle groups kept per component: about the instances that run at once. */
const MAX_IDLE_GROUPS = 64;

export class ComponentRuntime {
  readonly blueprint: Blueprint;
  /** Groups without core instances, ready to make new ones. */
  readonly #idle: InstanceGroup[] = [];
  /** Groups restored whole, with the idle memory bytes each holds. */
  readonly #restored: { group: InstanceGroup; bytes: number }[] = [];

  constructor(blueprint: Blueprint) {
    this.blueprint = blueprint;
  }

  /** Idle groups ready for new instances (for tests): restored ones, and shells. */
  get idle(): { restored: number; shells: number } {
    return { restored: this.#restored.length, shells: this.#idle.length };
  }

  async instantiate(imports: ImportObject, limiter: Limiter | undefined): Promise<Record<string, unknown>> {
    const restored = this.#restored.pop();
    let group: InstanceGroup;
    if (restored) {
      group = restored.group;
      this.blueprint.recycling!.budget.release(restored.bytes);
      group.bind(imports, limiter);
      group.adoptCores();
    } else {
      group = this.#idle.pop() ?? new InstanceGroup(this.blueprint);
      group.bind(imports, limiter);
      // A group whose instantiation failed may hold what its start functions did: it is dropped.
      await group.instantiate();
    }
    const life: Lifetime = {
      active: 0,
      released: false,
      failed: false,
      onIdle: () => this.#finished(group, life.failed),
    };
    const exports = group.exports(life);
    Object.defineProperty(exports, RELEASE, {
      value: () => {
        if (life.released) return;
        life.released = true;
        if (life.active === 0) life.onIdle();
      },
    });
    return exports;
  }

  /** A released instance nothing runs in any more: its group restored for the next, or made a shell. */
  #finished(group: InstanceGroup, failed: boolean): void {
    group.unbind();
    const budget = this.blueprint.recycling?.budget;
    if (!failed && group.snapshot && budget) {
      const bytes = group.memoryBytes;
      if (budget.reserve(bytes)) {
        if (group.restore()) return void this.#restored.push({ group, bytes });
        budget.release(bytes);
      }
    }
    group.dropCores();
    if (this.#idle.length < MAX_IDLE_GROUPS) this.#idle.push(group);
  }
}
