/**
 * Resource handles (CanonicalABI.md, "Table State" and "Resource State"): each component
 * instance has one table of handles, small integers its code passes around, each naming a
 * resource type, a representation (the guest's i32 for its own resources, the host's object for
 * the host's) and whether it owns the resource or borrows it for the current call.
 *
 * Kept in parallel arrays, not an object per handle: a small HTTP request makes a dozen handles.
 */
import type { ResourceType } from '../component/types.ts';
import { trap } from './cx.ts';

/** Table indices stay below 2^28, so guests may use the high bits (the spec's `MAX_LENGTH`). */
const MAX_HANDLES = 2 ** 28 - 1;

/**
 * A resource type at run time: one per host slot, and one per guest slot and instantiation
 * (resource types are generative: a handle of one instance's type is refused by another's).
 */
export class RuntimeResource {
  readonly type: ResourceType;
  /** The component instance that defines it (guest resources). */
  impl: ComponentInstanceState | undefined;
  /** Runs the destructor of a guest resource in its instance; undefined when it has none. */
  dtor: ((rep: number) => unknown) | undefined;
  /** The class the host sees this resource's values as (an exported resource), else plain handle objects. */
  handleClass: { prototype: object } | undefined;
  /**
   * A host resource: the class the host's import object gives for it (its values must be
   * instances, as jco checks), null when it gives none; undefined until first needed.
   */
  hostClass: Function | null | undefined;
  lookupClass: (() => Function | null) | undefined;

  constructor(type: ResourceType) {
    this.type = type;
  }

  get label(): string {
    return this.type.name || `#${this.type.slot}`;
  }
}

export class HandleTable {
  readonly #types: (RuntimeResource | undefined)[] = [undefined];
  readonly #reps: unknown[] = [undefined];
  readonly #own: boolean[] = [false];
  readonly #free: number[] = [];
  #live = 0;
  /** Called with the live count before a new handle is handed out (the limiter's cap). */
  admit: ((live: number) => void) | undefined;
  /** Whether the handle the last `remove` took was an owning one. */
  removedOwn = false;

  get live(): number {
    return this.#live;
  }

  add(rt: RuntimeResource, rep: unknown, own: boolean): number {
    this.admit?.(this.#live + 1);
    this.#live++;
    const free = this.#free.pop();
    if (free !== undefined) {
      this.#types[free] = rt;
      this.#reps[free] = rep;
      this.#own[free] = own;
      return free;
    }
    const i = this.#types.length;
    if (i > MAX_HANDLES) trap('too many handles');
    this.#types.push(rt);
    this.#reps.push(rep);
    this.#own.push(own);
    return i;
  }

  /** The representation behind a handle of type `rt`; traps on any other. */
  get(i: number, rt: RuntimeResource): unknown {
    const t = this.#types[i];
    if (t !== rt || i === 0) this.#refuse(i, rt);
    return this.#reps[i];
  }

  /** Takes a handle out of the table; `removedOwn` says whether it owned its resource. */
  remove(i: number, rt: RuntimeResource): unknown {
    const rep = this.get(i, rt);
    this.removedOwn = this.#own[i];
    this.#types[i] = undefined;
    this.#reps[i] = undefined;
    this.#free.push(i);
    this.#live--;
    return rep;
  }

  /** Takes an owning handle out (lifting an `own`): a borrowed one may not be given away. */
  removeOwn(i: number, rt: RuntimeResource): unknown {
    this.get(i, rt);
    if (!this.#own[i]) trap(`handle ${i} borrows its ${rt.label}: it cannot be passed as owned`);
    return this.remove(i, rt);
  }

  /** Forgets every handle (the instance is gone; the host objects are not disposed). */
  clear(): void {
    this.#types.length = 1;
    this.#reps.length = 1;
    this.#own.length = 1;
    this.#free.length = 0;
    this.#live = 0;
  }

  #refuse(i: number, rt: RuntimeResource): never {
    const t = i === 0 ? undefined : this.#types[i];
    if (!t) trap(`unknown handle index ${i} for resource ${rt.label}`);
    trap(`handle index ${i} is a ${t.label}, not a ${rt.label}`);
  }
}

/** A component instance at run time: its handles and what the canonical ABI's rules need to know of it. */
export class ComponentInstanceState {
  readonly handles = new HandleTable();
  /** False while the host lowers values into it or runs its post-return: it may not call out then. */
  mayLeave = true;
  /** A synchronous call into it is under way: another waits, and a call from inside traps. */
  entered = false;
  /** Borrowed handles lent to the call under way, which it must drop before it returns. */
  borrows = 0;
  /** Calls from the host waiting for the one under way. */
  #waiting: (() => void)[] = [];

  /** Resolves when the call under way ends (host calls into a busy instance take turns: check `entered` again). */
  turn(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Ends a call and wakes the calls waiting for it (the first to run enters; the others wait again). */
  exit(): void {
    this.entered = false;
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  /** Back to a new instance's state (its group is reused). */
  reset(): void {
    this.handles.clear();
    this.mayLeave = true;
    this.borrows = 0;
    this.exit();
  }
}

// --- guest resources as the host sees them -----------------------------------------------------

/** The handle behind a guest resource value the host holds. */
export interface HandleState {
  rt: RuntimeResource;
  rep: number;
  /** `own`: the host owns it (disposing runs the destructor); `borrow`: lent for one call; `gone`: moved or dropped. */
  state: 'own' | 'borrow' | 'gone';
}

export const HANDLE = Symbol('wasmhost.handle');

/** A guest-defined resource held by the host (or passing between two components): the base of exported resource classes. */
export class GuestResource {
  declare [HANDLE]: HandleState;

  /** Drops the host's handle: the resource's destructor runs in its instance (asynchronously). */
  [Symbol.dispose](): void {
    const h = this[HANDLE];
    if (!h || h.state !== 'own') return;
    h.state = 'gone';
    const done = h.rt.dtor?.(h.rep);
    if (done instanceof Promise) done.catch(() => undefined);
  }
}

/** A host-side value for a guest resource: an instance of its exported class when it has one. */
export function guestValue(rt: RuntimeResource, rep: number, state: 'own' | 'borrow'): GuestResource {
  const value = Object.create(rt.handleClass?.prototype ?? GuestResource.prototype) as GuestResource;
  Object.defineProperty(value, HANDLE, { value: { rt, rep, state } });
  return value;
}

/** The representation of a guest resource value of type `rt`, taking it over when `take` (an `own` moves). */
export function repOf(value: unknown, rt: RuntimeResource, take: boolean): number {
  const h = (value as GuestResource | null)?.[HANDLE];
  if (!h || h.rt !== rt) {
    throw new TypeError(`expected a ${rt.label} resource of this instance, got ${h ? `a ${h.rt.label}` : typeof value}`);
  }
  if (h.state === 'gone') throw new TypeError(`this ${rt.label} was already moved or dropped`);
  if (take) {
    if (h.state !== 'own') throw new TypeError(`a borrowed ${rt.label} cannot be passed as owned`);
    h.state = 'gone';
  }
  return h.rep;
}
